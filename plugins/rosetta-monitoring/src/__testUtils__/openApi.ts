import fs from 'node:fs';
import path from 'node:path';

/** A schema of docs/openapi.json, as far as the answers' schemas use them. */
interface Schema {
  $ref?: string;
  anyOf?: Schema[];
  type?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}

/** The API's description, as the plugin's types are generated from it. */
const spec: { components: { schemas: Record<string, Schema> } } = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '../../../../docs/openapi.json'), 'utf8'),
);

function resolved(schema: Schema): Schema {
  return schema.$ref ? resolved(spec.components.schemas[schema.$ref.split('/').pop()!]) : schema;
}

function typeMismatch(value: unknown, type: string | undefined): boolean {
  switch (type) {
    case 'null':
      return value !== null;
    case 'string':
    case 'boolean':
    case 'number':
      return typeof value !== type;
    case 'integer':
      return !Number.isInteger(value);
    case 'array':
      return !Array.isArray(value);
    case 'object':
      return value === null || typeof value !== 'object' || Array.isArray(value);
    default:
      return false;
  }
}

function mismatchesOf(value: unknown, schema: Schema, at: string): string[] {
  const s = resolved(schema);
  if (s.anyOf) {
    const tried = s.anyOf.map(alternative => mismatchesOf(value, alternative, at));
    if (tried.some(found => found.length === 0)) return [];
    // The alternative that comes closest says what is wrong (a row with a field missing, rather than "not null"); a
    // value that is not null is held to the others, or an object missing two fields would read only "not null".
    const held = tried.filter((_, i) => value === null || resolved(s.anyOf![i]).type !== 'null');
    return (held.length ? held : tried).reduce((fewest, found) => (found.length < fewest.length ? found : fewest));
  }
  if (s.enum && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is none of ${s.enum.join(', ')}`];
  if (typeMismatch(value, s.type)) return [`${at}: ${JSON.stringify(value)} is not of type ${s.type}`];
  if (Array.isArray(value)) return value.flatMap((item, i) => mismatchesOf(item, s.items ?? {}, `${at}[${i}]`));
  if (!s.properties || value === null || typeof value !== 'object') return [];
  const fields = value as Record<string, unknown>;
  const required = new Set(s.required ?? []);
  return [
    // The API writes every field of its answers, a null one too: a field the schema has and the answer lacks is one
    // a recording missed, whether the schema requires it or not.
    ...Object.keys(s.properties)
      .filter(name => !(name in fields))
      .map(name => `${at}.${name}: missing${required.has(name) ? ' (required)' : ''}`),
    ...Object.keys(fields)
      .filter(name => !(name in s.properties!))
      .map(name => `${at}.${name}: not in the schema`),
    ...Object.entries(fields)
      .filter(([name]) => name in s.properties!)
      .flatMap(([name, field]) => mismatchesOf(field, s.properties![name], `${at}.${name}`)),
  ];
}

/**
 * Where `answer` departs from the schema `name` of docs/openapi.json: a field missing or unknown, or a value of
 * another type. Empty when it is an answer the API could give.
 */
export function departuresFromSchema(answer: unknown, name: string): string[] {
  return mismatchesOf(answer, { $ref: `#/components/schemas/${name}` }, name);
}
