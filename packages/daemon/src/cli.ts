#!/usr/bin/env node
import { PACKAGE_NAME } from './index.js';

const command = process.argv[2] ?? 'run';
if (command === 'run') {
  console.log(JSON.stringify({ level: 'info', msg: 'ingot daemon starting', package: PACKAGE_NAME }));
} else {
  console.error(`unknown command: ${command}`);
  process.exit(2);
}
