import { appArgs, reply, serve } from './http-app.ts';

/**
 * A catalog replica: GET /items answers the items and its replica name. `--fail-rate 0.3` makes it flaky: that
 * share of requests get a 503, which the caller's sidecar retries on another replica and counts toward ejection.
 */
const { name, port, flags } = appArgs(['fail-rate']);
const failRate = Number(flags['fail-rate'] ?? 0);
let served = 0;
let failed = 0;

serve(name, port, (req, res) => {
  if (Math.random() < failRate) {
    failed++;
    reply(res, 503, { replica: name, error: 'flaky replica: try another one' });
    return;
  }
  served++;
  reply(res, 200, { replica: name, items: ['kayak', 'paddle', 'outrigger canoe'], path: req.url, served, failed });
});
