/**
 * A checkout as a small saga: reserving an item holds stock and locks the instance while a thunk
 * charges a (fake, local) payment service. The caller of `call.checkout` gets the thunk's reply,
 * the receipt id; a declined card runs the thunk's compensation, which releases the stock in the
 * same transaction that moves the order to the dead letters, and the caller gets the card error.
 * The payment service refuses writes carrying an older fencing token than one it has seen, and
 * charges once per idempotency key; the call is retried with its own idempotency key.
 *
 *   npx tsx examples/checkout.ts
 */
import { ActorError, createSystem, defineActor, memory } from '../src/index.js';

/** The payment service: charges once per idempotency key; refuses a stale consumer's token. */
const payments = {
  receipts: new Map<string, string>(),
  highestToken: 0,
  async charge(card: string, amount: number, opts: { idempotencyKey: string; fencingToken: number }): Promise<string> {
    if (opts.fencingToken < this.highestToken) throw new Error(`stale fencing token ${opts.fencingToken}`);
    this.highestToken = opts.fencingToken;
    const known = this.receipts.get(opts.idempotencyKey);
    if (known !== undefined) return known; // a re-run after a crash: same key, same receipt
    if (card.startsWith('0000')) throw Object.assign(new Error(`card ${card} declined`), { code: 'card_declined' });
    const receipt = `rcpt-${this.receipts.size + 1}-${amount}`;
    this.receipts.set(opts.idempotencyKey, receipt);
    return receipt;
  },
};

interface Order {
  readonly order: string;
  readonly card: string;
  readonly amount: number;
}

interface Shop {
  stock: number;
  held: number;
  orders: Record<string, string>;
}

export const ShopActor = defineActor({
  name: 'shop',
  initialState: (): Shop => ({ stock: 2, held: 0, orders: {} }),
  // Declared before the reducers, so that `ctx.lock` is typed from them.
  thunks: {
    pay: {
      async run({ order, card, amount }: Order, { key, fencingToken }) {
        const receipt = await payments.charge(card, amount, { idempotencyKey: key, fencingToken });
        return {
          recipe: (draft) => {
            draft.held -= 1;
            draft.orders[order] = `paid (${receipt})`;
          },
          reply: receipt, // call.checkout resolves with it: Promise<string>
        };
      },
      // The thunk gave up (thunkAttempts runs failed): undo the reservation, in the same
      // transaction that dead-letters the order.
      onFailure(draft, error, { order }: Order) {
        draft.stock += 1;
        draft.held -= 1;
        draft.orders[order] = `cancelled (${error.code})`;
      },
    },
  },
  reducers: {
    checkout(state, o: Order, ctx) {
      if (state.stock === 0) throw Object.assign(new Error('sold out'), { code: 'sold_out' });
      state.stock -= 1;
      state.held += 1;
      state.orders[o.order] = 'pending';
      return ctx.lock('pay', o); // the thunk's reply answers the call
    },
  },
  options: { thunkAttempts: 2, thunkRetryMs: 50 },
});

const system = await createSystem({ backend: memory() });
system.serve(ShopActor);
const shop = system.ref(ShopActor, 'store-1');

const receipt: string = await shop.call.checkout({ order: 'o-1', card: '4242', amount: 30 }, { idempotencyKey: 'o-1' });
console.log(`o-1 paid: ${receipt}`);
// A retry of the same call (say after a timeout) sends nothing and gets the same reply.
console.log(`o-1 retried: ${await shop.call.checkout({ order: 'o-1', card: '4242', amount: 30 }, { idempotencyKey: 'o-1' })}`);

try {
  await shop.call.checkout({ order: 'o-2', card: '0000-1111', amount: 20 }, { idempotencyKey: 'o-2' });
} catch (e) {
  if (!(e instanceof ActorError)) throw e;
  console.log(`o-2 failed: ${e.code}: ${e.message}`);
}
console.log('state:', await shop.query());
console.log('dead letters:', (await system.admin.deadLetters(ShopActor, 'store-1')).map((l) => `${l.position}: ${l.error.code}`));
await system.close();
