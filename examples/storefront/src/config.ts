/** The storefront's personalization, as `attune config apply` takes it. */
export const STOREFRONT_CONFIG = {
  experiences: [
    {
      id: 'hero-cart-abandoner',
      name: 'Home hero: come back to your cart',
      priority: 30,
      targeting: { pages: ['/'], audiences: ['cart-abandoners'] },
      variants: [{ key: 'default', slots: { hero: { content: { title: 'Your cart is waiting', subtitle: 'The items you picked are still in your cart.', cta: 'Finish your order', href: '/cart' } } } }],
    },
    {
      id: 'hero-gold',
      name: 'Home hero: gold members',
      priority: 20,
      targeting: { pages: ['/'], audiences: ['gold'] },
      variants: [{ key: 'default', slots: { hero: { content: { title: 'Welcome back, Gold member', subtitle: 'Early access to the new season, just for you.', cta: 'See what is new', href: '/category/outerwear' } } } }],
    },
    {
      id: 'hero-first-visit',
      name: 'Home hero: first visit',
      priority: 10,
      targeting: { pages: ['/'], condition: { context: { field: 'visitor.new', op: 'eq', value: true } } },
      variants: [{ key: 'default', slots: { hero: { content: { title: 'Welcome to Attune Outfitters', subtitle: '10% off your first order with code WELCOME10.', cta: 'Start shopping', href: '/category/shoes' } } } }],
    },
    {
      id: 'promo-france',
      name: 'Free shipping banner in France',
      priority: 10,
      targeting: { condition: { context: { field: 'geo.country', op: 'eq', value: 'FR' } } },
      variants: [{ key: 'default', slots: { promo: { content: { text: 'Livraison gratuite en France dès 50 €' } } } }],
    },
    {
      id: 'promo-germany',
      name: 'Free returns banner in Germany',
      priority: 10,
      targeting: { condition: { context: { field: 'geo.country', op: 'eq', value: 'DE' } } },
      variants: [{ key: 'default', slots: { promo: { content: { text: 'Kostenlose Rücksendung in Deutschland' } } } }],
    },
    {
      id: 'product-cta',
      name: 'Product page call to action',
      priority: 10,
      targeting: { pages: ['/products/**'] },
      variants: [
        { key: 'control', slots: { cta: { content: { label: 'Add to cart' } } } },
        { key: 'ships-today', slots: { cta: { content: { label: 'Add to cart – ships today' } } } },
      ],
    },
    {
      id: 'recs-home',
      name: 'Home: recommended for you',
      targeting: { pages: ['/'] },
      variants: [{ key: 'default', slots: { recommendations: { recommend: { strategy: 'for-you', limit: 4 } } } }],
    },
    {
      id: 'recs-product',
      name: 'Product page: viewed together or more like this',
      targeting: { pages: ['/products/**'] },
      variants: [
        { key: 'viewed-together', slots: { recommendations: { recommend: { strategy: 'viewed-together', limit: 4 } } } },
        { key: 'more-like-this', slots: { recommendations: { recommend: { strategy: 'more-like-this', limit: 4 } } } },
      ],
    },
    {
      id: 'recs-cart',
      name: 'Cart: bought together',
      targeting: { pages: ['/cart'] },
      variants: [{ key: 'default', slots: { recommendations: { recommend: { strategy: 'bought-together', limit: 4, filters: { inStock: true, excludePurchased: true } } } } }],
    },
  ],
  experiments: [
    {
      id: 'cta-test',
      name: 'Product CTA wording',
      experienceId: 'product-cta',
      traffic: 100,
      goals: [{ id: 'purchase', event: 'Order Completed', valueProperty: 'revenue' }, { id: 'add-to-cart', event: 'Product Added' }],
    },
    {
      id: 'recs-product-test',
      name: 'Product page recommendations: viewed together vs. more like this',
      experienceId: 'recs-product',
      goals: [{ id: 'add-to-cart', event: 'Product Added' }, { id: 'purchase', event: 'Order Completed', valueProperty: 'revenue' }],
    },
  ],
};
