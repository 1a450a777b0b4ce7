// Loads one bundled handler in this fresh process and reports, in ms since the process started
// (performance.timeOrigin), when Node was ready to load it and when the handler was loaded; then
// how long the first DynamoDB call's load of the SDK file beside it (aws-sdk.js) takes.
const { performance } = require('node:perf_hooks');
const { existsSync } = require('node:fs');
const { join, dirname } = require('node:path');

const ready = performance.now();
const loaded = require(process.argv[2]);
const done = performance.now();
if (typeof loaded.handler !== 'function') {
  process.stderr.write(`${process.argv[2]} exports no handler\n`);
  process.exit(1);
}
const sdkFile = join(dirname(process.argv[2]), 'aws-sdk.js');
const report = (sdk) => {
  process.stdout.write(
    `${JSON.stringify({ boot: ready, import: done - ready, total: done, sdk })}\n`,
  );
  // Module-scope clients may hold sockets open; the measurement is done.
  process.exit(0);
};
if (!existsSync(sdkFile)) report(null);
else {
  const start = performance.now();
  import(sdkFile).then((sdk) => {
    sdk.createDocumentClient();
    report(performance.now() - start);
  });
}
