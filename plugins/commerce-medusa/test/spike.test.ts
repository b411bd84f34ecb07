import { join } from 'node:path';
import { medusaIntegrationTestRunner } from '@medusajs/test-utils';

medusaIntegrationTestRunner({
  cwd: join(import.meta.dirname, 'app'),
  testSuite: ({ getContainer }) => {
    it('boots', async () => {
      const query = getContainer().resolve('query');
      const { data } = await query.graph({ entity: 'region', fields: ['id'] });
      expect(Array.isArray(data)).toBe(true);
    });
  },
});
