#!/usr/bin/env bun
import process from "node:process";
import { run } from "./src/cli/program.ts";

process.exit(await run(process.argv.slice(2)));
