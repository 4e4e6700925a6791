// Lighthouse on a list of pages, through one Chromium already started by bench/quality.py.
//
//   node lighthouse.mjs PORT < jobs.json > results.json
//
// jobs.json: [{"url": "...", "form": "mobile" | "desktop"}, ...]. For each job: the four
// categories' scores and every audit that keeps a category below 1 (its score and title).
// Mobile is Lighthouse's default (Moto G Power, slow 4G and a 4× slower CPU, all simulated);
// desktop is its own desktop preset.
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
const port = Number(process.argv[2]);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const jobs = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const results = [];
for (const job of jobs) {
  // No full-page screenshot: it is for the HTML report, which is not written here.
  const flags = { port, output: "json", logLevel: "error", onlyCategories: CATEGORIES, disableFullPageScreenshot: true };
  const config = job.form === "desktop" ? desktopConfig : undefined;
  const runner = await lighthouse(job.url, flags, config);
  const lhr = runner.lhr;
  const scores = {};
  const failing = [];
  for (const id of CATEGORIES) {
    const category = lhr.categories[id];
    scores[id] = category.score;
    for (const ref of category.auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        failing.push({
          category: id,
          id: ref.id,
          score: audit.score,
          weight: ref.weight,
          title: audit.title,
          value: audit.displayValue || "",
        });
      }
    }
  }
  results.push({
    ...job,
    scores,
    failing,
    lighthouse: lhr.lighthouseVersion,
    browser: lhr.environment.hostUserAgent,
    runtimeError: lhr.runtimeError ? lhr.runtimeError.message : null,
    warnings: lhr.runWarnings,
  });
  process.stderr.write(".");
}
process.stdout.write(JSON.stringify(results));
