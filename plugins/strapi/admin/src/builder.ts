/** Attune's options on each field in the Content-Type Builder ("Advanced settings"), stored as `pluginOptions.attune`. */
const TRANSFORMS = ['richtext-to-text', 'media-to-url', 'relation-to-ids', 'hash', 'lowercase', 'trim'];
const FIELD_TYPES = ['string', 'text', 'richtext', 'blocks', 'email', 'uid', 'enumeration', 'integer', 'biginteger', 'float', 'decimal', 'boolean', 'date', 'datetime', 'time', 'json', 'media', 'relation'];

interface CtbForms {
  extendFields(fields: string[], extension: { form: { advanced: () => unknown[]; base: () => unknown[] } }): void;
}

const label = (id: string, defaultMessage: string) => ({ id: `attune.ctb.${id}`, defaultMessage });

export function extendContentTypeBuilder(forms: CtbForms) {
  forms.extendFields(FIELD_TYPES, {
    form: {
      base: () => [],
      advanced: () => [
        {
          sectionTitle: label('section', 'Attune export'),
          items: [
            { name: 'pluginOptions.attune.skip', type: 'checkbox', intlLabel: label('skip', 'Leave this field out of Attune exports'), description: label('skip.hint', 'Checked: the field is never sent to Attune') },
            { name: 'pluginOptions.attune.rename', type: 'text', intlLabel: label('rename', 'Export as'), description: label('rename.hint', 'Name of the field in Attune; empty keeps its name') },
            {
              name: 'pluginOptions.attune.transform',
              type: 'select',
              intlLabel: label('transform', 'Transform'),
              description: label('transform.hint', 'hash for personal data (HMAC-SHA256)'),
              options: [{ key: 'none', value: '', metadatas: { intlLabel: label('transform.none', 'none') } }, ...TRANSFORMS.map((t) => ({ key: t, value: t, metadatas: { intlLabel: label(`transform.${t}`, t) } }))],
            },
          ],
        },
      ],
    },
  });
}
