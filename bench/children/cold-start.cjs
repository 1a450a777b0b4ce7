// Loads one bundled handler in this fresh process and reports, in ms since the process started
// (performance.timeOrigin), when Node was ready to load it and when the handler was loaded.
const { performance } = require('node:perf_hooks');

const ready = performance.now();
const loaded = require(process.argv[2]);
const done = performance.now();
if (typeof loaded.handler !== 'function') {
  process.stderr.write(`${process.argv[2]} exports no handler\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ boot: ready, import: done - ready, total: done })}\n`);
// Module-scope clients may hold sockets open; the measurement is done.
process.exit(0);
