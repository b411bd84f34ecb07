'use strict';

const PUBLIC_READ = ['api::article.article', 'api::product.product', 'api::landing-page.landing-page'];

module.exports = {
  register() {},

  /**
   * Makes the demo usable on first start: an admin from ADMIN_EMAIL / ADMIN_PASSWORD (defaults in
   * the README) and public read access to the demo content types.
   */
  async bootstrap({ strapi }) {
    const email = process.env.ADMIN_EMAIL ?? 'admin@attune.local';
    const password = process.env.ADMIN_PASSWORD ?? 'Attune-demo-1';
    const users = strapi.service('admin::user');
    if ((await users.count()) === 0) {
      const superAdmin = await strapi.service('admin::role').getSuperAdmin();
      await users.create({ email, firstname: 'Attune', lastname: 'Admin', password, isActive: true, registrationToken: null, roles: superAdmin ? [superAdmin.id] : [] });
      strapi.log.info(`Created the demo admin ${email}`);
    }
    const role = await strapi.db.query('plugin::users-permissions.role').findOne({ where: { type: 'public' } });
    if (role) {
      for (const uid of PUBLIC_READ) {
        for (const action of ['find', 'findOne']) {
          const name = `${uid}.${action}`;
          const exists = await strapi.db.query('plugin::users-permissions.permission').findOne({ where: { action: name, role: role.id } });
          if (!exists) await strapi.db.query('plugin::users-permissions.permission').create({ data: { action: name, role: role.id } });
        }
      }
    }
  },
};
