// Test helper: runs the ingot CLI under a seccomp filter like systemd's SystemCallFilter=<groups> with
// SystemCallErrorNumber=EPERM: exactly the system calls listed in the file given as first argument are allowed, every
// other one fails with EPERM, on every thread (TSYNC) and in every child (the `ip` command). Uses libseccomp through
// koffi. Usage: node seccomp-run.mjs ALLOWED_FILE CLI ARGS...
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [allowedFile, cli, ...args] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const koffi = require('koffi');
const lib = koffi.load('libseccomp.so.2');
const init = lib.func('void *seccomp_init(uint32_t def_action)');
const resolveName = lib.func('int seccomp_syscall_resolve_name(const char *name)');
const ruleAdd = lib.func(
  'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, void *args)',
);
const attrSet = lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)');
const load = lib.func('int seccomp_load(void *ctx)');
const SCMP_ACT_ALLOW = 0x7fff0000;
const SCMP_ACT_ERRNO_EPERM = 0x00050000 | 1;
const SCMP_FLTATR_CTL_TSYNC = 4;

const ctx = init(SCMP_ACT_ERRNO_EPERM);
if (!ctx || attrSet(ctx, SCMP_FLTATR_CTL_TSYNC, 1) !== 0) throw new Error('seccomp: init or TSYNC failed');
let allowed = 0;
for (const name of readFileSync(allowedFile, 'utf8').split('\n').filter(Boolean)) {
  const nr = resolveName(name);
  if (nr >= 0 && ruleAdd(ctx, SCMP_ACT_ALLOW, nr, 0, null) === 0) allowed++;
}
const rc = load(ctx);
if (rc !== 0) throw new Error(`seccomp_load failed: ${rc}`);
process.stderr.write(`seccomp: ${allowed} system calls allowed, every other one fails with EPERM\n`);
process.argv = [process.argv[0], cli, ...args];
await import(cli);
