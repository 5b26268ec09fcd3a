// Benchmarks for @ingot/bgp: none yet.
console.log(JSON.stringify({ package: '@ingot/bgp', benchmarks: [] }));
