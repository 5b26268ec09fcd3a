// Benchmarks for @ingot/allocator: none yet.
console.log(JSON.stringify({ package: '@ingot/allocator', benchmarks: [] }));
