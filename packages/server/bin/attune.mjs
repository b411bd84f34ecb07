#!/usr/bin/env node
// The published `attune` command runs the compiled CLI; in this repository use `pnpm attune`,
// which runs the TypeScript sources.
import '../dist/cli.js';
