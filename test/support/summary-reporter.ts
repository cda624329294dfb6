import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with the name of every skipped test (their names carry the reason, e.g.
 * "FDB_CLUSTER_FILE is not set") and one closing line, `N passed, N failed, N skipped`, that any
 * CI can read.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped.push(`${m.moduleId.replace(process.cwd() + '/', '')} > ${t.fullName}`);
      }
    }
    for (const s of skipped) process.stdout.write(`skipped: ${s}\n`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
  }
}
