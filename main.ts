#!/usr/bin/env bun
import process from "node:process";
import { printQuickAnswer, quickAnswer, run } from "./src/cli/program.ts";

const argv = process.argv.slice(2);
const quick = quickAnswer(argv);
process.exit(quick ? await printQuickAnswer(quick) : await run(argv));
