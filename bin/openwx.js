#!/usr/bin/env node
// Entry point of the `openwx` command: loads TypeScript through tsx and runs the CLI.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
