// Benchmarks for @ingot/daemon: none yet.
console.log(JSON.stringify({ package: '@ingot/daemon', benchmarks: [] }));
