// Benchmarks for @ingot/election: none yet.
console.log(JSON.stringify({ package: '@ingot/election', benchmarks: [] }));
