import { appArgs, reply, serve } from './http-app.ts';

/** The pricing service: GET /prices?items=a,b answers a price for each item. */
const { name, port } = appArgs();
const PRICES: Record<string, number> = { kayak: 899, paddle: 79, 'outrigger canoe': 2450 };

serve(name, port, (req, res) => {
  const url = new URL(req.url ?? '/', 'http://pricing');
  const items = (url.searchParams.get('items') ?? '').split(',').filter(Boolean);
  reply(res, 200, { replica: name, currency: 'EUR', prices: Object.fromEntries(items.map((item) => [item, PRICES[item] ?? null])) });
});
