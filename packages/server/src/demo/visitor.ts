import { DEMO_CURRENCY, DEMO_SHOP_URL, type DemoProduct, productProperties, slugify } from './catalog.ts';
import { type CartLine, cartItem, listItem, type Order, orderFollowUps, orderTotals } from './orders.ts';
import type { DemoCampaign, DemoDevice } from './people.ts';
import { ORGANIC_REFERRERS } from './people.ts';
import type { Random } from './random.ts';
import { type DemoCall, type OrderOutcome, type SessionPlan, type SimulationContext, TIME, type VisitorPlan } from './types.ts';

const SESSION_GAP = 40 * TIME.MINUTE;

/**
 * Plays one visitor's plan: sessions of page views, searches, product views, carts and orders
 * on their devices, sign-ups and sign-ins that stitch the devices, B2B flows and the back
 * office's follow-up events. Returns the visitor's calls in time order.
 */
export function simulateVisitor(plan: VisitorPlan, sim: SimulationContext): { calls: DemoCall[]; orders: number } {
  return new Visitor(plan, sim).run();
}

class Visitor {
  private readonly calls: Array<DemoCall & { seq: number }> = [];
  private seq = 0;
  private t = 0;
  private device: DemoDevice;
  private page: { path: string; url: string; title: string; referrer: string; search: string } | null = null;
  private landingCampaign: DemoCampaign | undefined;
  private registered = false;
  private groupSent = false;
  private requisitionListId: string | null = null;
  private requisitionItems: DemoProduct[] = [];
  private viewed: DemoProduct[] = [];
  /** Carts are per device: an anonymous browser's cart is not the app's. */
  private readonly carts = new Map<DemoDevice, CartLine[]>();
  private orders = 0;
  private quotes = 0;
  private deleted = false;
  private readonly rng: Random;

  constructor(
    private readonly plan: VisitorPlan,
    private readonly sim: SimulationContext,
  ) {
    this.rng = sim.rng;
    this.device = plan.devices[0] as DemoDevice;
  }

  run(): { calls: DemoCall[]; orders: number } {
    let lastEnd = 0;
    for (const session of this.plan.sessions) {
      if (this.deleted) break;
      const start = Math.max(session.start, lastEnd + SESSION_GAP);
      // A session that would run past "now" has not happened yet.
      if (start > this.sim.now - TIME.HOUR) break;
      this.session(session, start);
      lastEnd = this.t;
    }
    this.calls.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.seq - b.seq));
    return { calls: this.calls.map(({ seq: _seq, ...call }) => call as DemoCall), orders: this.orders };
  }

  private session(s: SessionPlan, start: number): void {
    this.t = start;
    this.device = this.plan.devices[s.device] as DemoDevice;
    this.page = null;
    this.land(s.campaign);
    if (s.signUp && !this.registered) this.signUp();
    else if (this.registered && !this.device.signedIn && s.signIn && !s.buy) this.signIn();
    if ((s.requisition || s.quote) && this.registered && !this.device.signedIn) this.signIn();
    if (this.plan.kind === 'b2b' && this.device.signedIn && !this.groupSent) this.group();
    this.browse(s.depth);
    if (s.requisition) this.requisition(s.removeFromRequisition === true);
    if (s.quote) this.quote();
    if (s.cart || s.buy) this.fillCart(s.removeFromCart === true);
    if (s.buy) this.checkout();
    if (s.accountUpdate && this.registered) this.accountUpdate();
    if (s.deleteAccount && this.registered) this.deleteAccount();
    else if (s.signOut && this.device.signedIn) this.signOut();
  }

  // ---- calls -------------------------------------------------------------------------------

  private get cart(): CartLine[] {
    let cart = this.carts.get(this.device);
    if (!cart) {
      cart = [];
      this.carts.set(this.device, cart);
    }
    return cart;
  }

  private step(minSeconds: number, maxSeconds: number): void {
    this.t += this.rng.int(minSeconds * 1000, maxSeconds * 1000);
  }

  private push(call: Omit<DemoCall, 'messageId' | 'timestamp'>, at = this.t): void {
    const seq = this.seq++;
    this.calls.push({
      ...call,
      messageId: `demo-${this.sim.seed}-${this.plan.index}-${seq}`,
      timestamp: new Date(at).toISOString(),
      seq,
    } as DemoCall & { seq: number });
  }

  /** A call from the visitor's current device, with the identity that device knows. */
  private emit(type: DemoCall['type'], body: Record<string, unknown>): void {
    const d = this.device;
    const context: Record<string, unknown> = { ...d.context };
    if (!d.app && this.page) context.page = { ...this.page };
    if (this.landingCampaign) {
      const { category: _category, ...campaign } = this.landingCampaign;
      context.campaign = campaign;
    }
    this.push({
      type,
      anonymousId: d.anonymousId,
      ...(d.signedIn ? { userId: this.plan.userId } : {}),
      ...body,
      context,
    });
  }

  private track(event: string, properties: Record<string, unknown>): void {
    this.step(2, 25);
    this.emit('track', { event, properties });
  }

  private identify(traits: Record<string, unknown>): void {
    this.step(0, 2);
    this.emit('identify', { traits });
  }

  /** A page view on the web, a screen view in the app. */
  private navigate(path: string, title: string, options: { search?: string; category?: string; screen?: string } = {}): void {
    this.step(8, 75);
    this.landingCampaign = undefined;
    if (this.device.app) {
      this.emit('screen', { name: options.screen ?? title, properties: { path, ...(options.category ? { category: options.category } : {}) } });
      return;
    }
    const search = options.search ?? '';
    const referrer = this.page?.url ?? '';
    this.page = { path, url: `${DEMO_SHOP_URL}${path}${search}`, title: `${title} | Attune Shop`, referrer, search };
    this.emit('page', {
      name: title,
      ...(options.category ? { category: options.category } : {}),
      properties: { ...this.page },
    });
  }

  private land(campaign: DemoCampaign | undefined): void {
    if (this.device.app) {
      this.navigate('/', 'Home');
      return;
    }
    let path = '/';
    let title = 'Home';
    let category: string | undefined;
    let product: DemoProduct | undefined;
    if (campaign?.category) {
      category = campaign.category;
      path = `/c/${slugify(category)}`;
      title = category;
    } else if (!campaign) {
      const r = this.rng.next();
      if (r < 0.25) {
        product = this.pickProduct();
        path = product.path;
        title = product.name;
      } else if (r < 0.4) {
        category = this.pickCategory();
        path = `/c/${slugify(category)}`;
        title = category;
      }
    }
    const search = campaign
      ? `?utm_source=${campaign.source}&utm_medium=${campaign.medium}&utm_campaign=${campaign.name}${campaign.content ? `&utm_content=${campaign.content}` : ''}${campaign.term ? `&utm_term=${encodeURIComponent(campaign.term)}` : ''}`
      : '';
    const referrer = campaign ? campaignReferrer(campaign) : this.rng.pick(ORGANIC_REFERRERS);
    // The landing page's referrer is the outside page; the campaign rides on the landing call only.
    this.step(0, 1);
    const page = { path, url: `${DEMO_SHOP_URL}${path}${search}`, title: `${title} | Attune Shop`, referrer, search };
    this.page = page;
    this.landingCampaign = campaign;
    this.emit('page', { name: title, ...(category ? { category } : {}), properties: { ...page } });
    this.landingCampaign = undefined;
    if (product) this.viewProduct(product, false);
    else if (category) this.listCategory(category, false);
  }

  // ---- storefront flows -------------------------------------------------------------------

  private pickCategory(): string {
    if (this.rng.chance(0.7)) return this.rng.pick(this.plan.favoriteCategories);
    return this.rng.pick([...this.sim.byCategory.keys()]);
  }

  private pickProduct(category = this.pickCategory()): DemoProduct {
    const list = this.sim.byCategory.get(category) ?? this.sim.catalog;
    return this.rng.weighted(
      list,
      list.map((p) => p.popularity),
    );
  }

  private browse(depth: number): void {
    for (let i = 0; i < depth; i++) {
      let candidates: DemoProduct[];
      if (this.rng.chance(0.35)) candidates = this.search();
      else {
        const category = this.pickCategory();
        candidates = this.listCategory(category, true);
      }
      const views = candidates.length === 0 ? 0 : this.rng.int(1, 3);
      for (let v = 0; v < views; v++) {
        const p = this.rng.chance(0.6) ? this.rng.weighted(candidates, candidates.map((c) => c.popularity)) : this.pickProduct();
        this.viewProduct(p, true);
      }
    }
  }

  private search(): DemoProduct[] {
    const seedProduct = this.pickProduct();
    const query = this.rng.pick([
      seedProduct.subcategory.toLowerCase(),
      seedProduct.brand.toLowerCase(),
      `${seedProduct.variant} ${seedProduct.subcategory}`.toLowerCase(),
      `${seedProduct.brand} ${seedProduct.subcategory}`.toLowerCase(),
      seedProduct.category.toLowerCase(),
    ]);
    const words = query.split(/\s+/);
    const results = this.sim.catalog
      .filter((p) => {
        const haystack = `${p.name} ${p.category} ${p.variant}`.toLowerCase();
        return words.every((w) => haystack.includes(w));
      })
      .sort((a, b) => b.popularity - a.popularity);
    this.navigate('/search', 'Search results', { search: `?q=${encodeURIComponent(query)}`, screen: 'Search Results' });
    this.track('Products Searched', { query, results: results.length, products: results.slice(0, 8).map(listItem) });
    return results.slice(0, 24);
  }

  private listCategory(category: string, navigate: boolean): DemoProduct[] {
    const slug = slugify(category);
    if (navigate) this.navigate(`/c/${slug}`, category, { category, screen: 'Category' });
    const products = [...(this.sim.byCategory.get(category) ?? [])].sort((a, b) => b.popularity - a.popularity).slice(0, 24);
    this.track('Product List Viewed', { list_id: `category-${slug}`, category, products: products.slice(0, 8).map(listItem) });
    return products;
  }

  private viewProduct(p: DemoProduct, navigate: boolean): void {
    if (navigate) this.navigate(p.path, p.name, { category: p.category, screen: 'Product Detail' });
    this.track('Product Viewed', { ...productProperties(p), currency: DEMO_CURRENCY });
    this.viewed.push(p);
    if (this.viewed.length > 20) this.viewed.shift();
  }

  private fillCart(removeOne: boolean): void {
    if (this.viewed.length === 0) this.viewProduct(this.pickProduct(), true);
    const adds = this.rng.int(1, Math.min(3, this.viewed.length)) + (removeOne ? 1 : 0);
    for (let i = 0; i < adds; i++) {
      const p = i < this.viewed.length ? (this.viewed[this.viewed.length - 1 - i] as DemoProduct) : this.pickProduct();
      const quantity = this.rng.chance(0.15) ? 2 : 1;
      const line = this.cart.find((l) => l.product.product_id === p.product_id);
      if (line) line.quantity += quantity;
      else this.cart.push({ product: p, quantity });
      this.track('Product Added', { ...productProperties(p, { quantity }), currency: DEMO_CURRENCY, cart_id: this.device.cartId });
    }
    if (removeOne && this.cart.length > 1) {
      const [removed] = this.cart.splice(this.rng.int(0, this.cart.length - 1), 1);
      if (removed) {
        this.track('Product Removed', {
          ...productProperties(removed.product, { quantity: removed.quantity }),
          currency: DEMO_CURRENCY,
          cart_id: this.device.cartId,
        });
      }
    }
    this.navigate('/cart', 'Cart');
    this.track('Cart Viewed', { cart_id: this.device.cartId, products: this.cart.map(cartItem) });
  }

  private checkout(): void {
    if (this.cart.length === 0) return;
    if (this.registered && !this.device.signedIn) this.signIn();
    else if (!this.registered) {
      // The guest checkout form: the shop identifies the visitor by e-mail.
      this.navigate('/checkout', 'Checkout');
      this.identify({ email: this.plan.email, first_name: this.plan.firstName, last_name: this.plan.lastName });
    }
    const orderId = `ORD-${this.sim.seed}-${this.plan.index + 1}-${this.orders + 1}`;
    const checkoutId = `chk-${this.rng.hex(12)}`;
    const totals = orderTotals(this.cart, this.rng.chance(0.15) ? 'WELCOME10' : undefined);
    const products = this.cart.map(cartItem);
    if (this.registered) this.navigate('/checkout', 'Checkout');
    this.track('Checkout Started', { checkout_id: checkoutId, value: totals.total, revenue: totals.revenue, currency: DEMO_CURRENCY, products });
    this.step(45, 240);
    this.navigate('/checkout/confirmation', 'Order confirmation', { screen: 'Order Confirmation' });
    const props = { order_id: orderId, checkout_id: checkoutId, ...totals, currency: DEMO_CURRENCY, products };
    this.track('Order Completed', props);
    const order: Order = { orderId, at: this.t, lines: this.cart, props, userId: this.registered ? this.plan.userId : null };
    this.carts.set(this.device, []);
    this.device.cartId = `cart-${this.rng.hex(12)}`;
    this.backOffice(order);
  }

  // ---- accounts -----------------------------------------------------------------------------

  private signUp(): void {
    this.navigate('/account/register', 'Create account', { screen: 'Sign Up' });
    this.device.signedIn = true;
    this.registered = true;
    const { email, firstName, lastName } = this.plan;
    this.identify({ email, first_name: firstName, last_name: lastName, name: `${firstName} ${lastName}` });
    this.track('Account Created', { email, first_name: firstName, last_name: lastName, traits: { newsletter: this.rng.chance(0.4) } });
  }

  private signIn(): void {
    this.navigate('/account/login', 'Sign in', { screen: 'Sign In' });
    this.device.signedIn = true;
    this.identify({ email: this.plan.email });
    this.track('Signed In', {
      method: this.device.app ? this.rng.pick(['password', 'apple', 'google']) : this.rng.pick(['password', 'password', 'google']),
      username: this.plan.email,
    });
  }

  private signOut(): void {
    this.track('Signed Out', { method: 'button' });
    this.device.signedIn = false;
    // analytics.js reset(): the next visitor on this browser gets a fresh anonymousId.
    this.device.anonymousId = this.rng.uuid();
    this.device.anonymousIds.push(this.device.anonymousId);
  }

  private accountUpdate(): void {
    this.navigate('/account', 'My account', { screen: 'Account' });
    this.track('Account Updated', { phone: this.plan.phone, traits: { newsletter: true, preferred_category: this.plan.favoriteCategories[0] } });
  }

  private deleteAccount(): void {
    this.navigate('/account', 'My account', { screen: 'Account' });
    this.track('Account Deleted', { reason: this.rng.pick(['no longer needed', 'too many emails', 'privacy']) });
    this.deleted = true;
  }

  // ---- B2B ----------------------------------------------------------------------------------

  private group(): void {
    const c = this.plan.company;
    if (!c) return;
    this.step(0, 2);
    this.emit('group', {
      groupId: c.id,
      traits: { name: c.name, industry: c.industry, employees: c.employees, website: c.website, plan: 'business' },
    });
    this.groupSent = true;
  }

  private requisition(removeOne: boolean): void {
    this.navigate('/account/requisition-lists', 'Requisition lists', { screen: 'Requisition Lists' });
    const name = this.rng.pick(['Office restock', 'Team kit', 'Event giveaways', 'Winter uniforms']);
    if (this.requisitionListId === null) {
      this.requisitionListId = `rl-${this.sim.seed}-${this.plan.index + 1}`;
      this.track('Requisition List Created', { requisition_list_id: this.requisitionListId, name });
    }
    const adds = this.rng.int(2, 5);
    for (let i = 0; i < adds; i++) {
      const p = this.pickProduct();
      if (this.requisitionItems.some((r) => r.product_id === p.product_id)) continue;
      this.requisitionItems.push(p);
      this.track('Product Added to Requisition List', {
        ...productProperties(p, { quantity: this.rng.int(5, 50) }),
        // The list's name is on Requisition List Created; `name` here stays the product's.
        requisition_list_id: this.requisitionListId,
      });
    }
    if (removeOne && this.requisitionItems.length > 1) {
      const [p] = this.requisitionItems.splice(0, 1);
      if (p) this.track('Product Removed from Requisition List', { ...productProperties(p), requisition_list_id: this.requisitionListId });
    }
  }

  private quote(): void {
    if (this.requisitionItems.length === 0) this.requisition(false);
    this.quotes += 1;
    const quoteId = `Q-${this.sim.seed}-${this.plan.index + 1}-${this.quotes}`;
    this.navigate(`/account/quotes/${quoteId}`, 'Quote', { screen: 'Quote' });
    const lines = this.requisitionItems.slice(0, 4).map((product) => ({ product, quantity: this.rng.int(10, 60) }));
    // Negotiated: 12% off list price.
    const totals = orderTotals(lines, undefined, 0.12);
    const orderId = `ORD-${this.sim.seed}-${this.plan.index + 1}-${this.orders + 1}`;
    const props = { quote_id: quoteId, order_id: orderId, ...totals, currency: DEMO_CURRENCY, products: lines.map(cartItem) };
    this.track('Quote Accepted', props);
    const { quote_id: _quote, ...orderProps } = props;
    this.backOffice({ orderId, at: this.t, lines, props: orderProps, userId: this.plan.userId });
  }

  // ---- back office --------------------------------------------------------------------------

  /** Hands the order to the back office: placed, then shipped or cancelled, sometimes refunded. */
  private backOffice(order: Order): void {
    const n = this.orders;
    this.orders += 1;
    const outcome: OrderOutcome =
      this.plan.orderOutcomes?.[n] ?? (this.rng.chance(0.04) ? 'cancelled' : this.rng.chance(0.09) ? 'refunded' : 'shipped');
    for (const f of orderFollowUps(order, outcome, { rng: this.rng, now: this.sim.now, forced: this.plan.forced })) {
      this.backOfficeCall(order, f.event, f.properties, f.at);
    }
  }

  private backOfficeCall(order: Order, event: string, properties: Record<string, unknown>, at: number): void {
    const registered = order.userId !== null;
    this.push(
      {
        type: 'track',
        event,
        // The order system knows the customer number, or only the e-mail of a guest order.
        ...(registered ? { userId: order.userId } : { anonymousId: `guest:${this.plan.email}` }),
        properties,
        context: {
          channel: 'back_office',
          library: { name: 'attune-commerce-connector', version: '1.0.0' },
          traits: { email: this.plan.email },
          ...(registered ? { externalIds: [{ id: this.plan.crmId, type: 'crm_id', collection: 'users', encoding: 'none' }] } : {}),
        },
      },
      at,
    );
  }
}

function campaignReferrer(c: DemoCampaign): string {
  switch (c.source) {
    case 'google':
      return 'https://www.google.com/';
    case 'bing':
      return 'https://www.bing.com/';
    case 'facebook':
      return 'https://l.facebook.com/';
    case 'instagram':
      return 'https://l.instagram.com/';
    case 'linkedin':
      return 'https://www.linkedin.com/';
    default:
      return '';
  }
}
