// Strapi's default console logger, at STRAPI_LOG_LEVEL (default "http"); tests set "warn".
const { winston, formats } = require(require.resolve('@strapi/logger', { paths: [require.resolve('@strapi/strapi')] }));

module.exports = {
  transports: [
    new winston.transports.Console({
      level: process.env.STRAPI_LOG_LEVEL ?? 'http',
      format: formats.prettyPrint({ timestamps: 'YYYY-MM-DD hh:mm:ss.SSS' }),
    }),
  ],
};
