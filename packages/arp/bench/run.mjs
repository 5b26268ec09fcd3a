// Benchmarks for @ingot/arp: none yet.
console.log(JSON.stringify({ package: '@ingot/arp', benchmarks: [] }));
