import { Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { DOMAIN_LABEL, FloeDomain, MAX_DOMAIN_NAME_LENGTH } from '../src';
import { domains, find, synth } from './util';

describe('FloeDomain', () => {
  test('creates namespace floe-<domain> labelled with its domain, and puts its objects in it', () => {
    // GIVEN / WHEN
    const { domains: [sales] } = domains('sales');
    const manifests = synth(sales);

    // THEN
    const ns = find(manifests, 'Namespace', 'floe-sales');
    expect(ns.metadata.labels).toEqual({ [DOMAIN_LABEL]: 'sales' });
    expect(ns.metadata.namespace).toBeUndefined();
    expect(sales.namespace).toBe('floe-sales');
    expect(sales.domainName).toBe('sales');
    expect(manifests).toMatchSnapshot();
  });

  test('adds extra labels but keeps the domain label authoritative', () => {
    const app = Testing.app();
    const d = new FloeDomain(app, 'd', { domain: 'finance', labels: { team: 'fin', [DOMAIN_LABEL]: 'spoofed' } });
    expect(find(synth(d), 'Namespace', 'floe-finance').metadata.labels).toEqual({ team: 'fin', [DOMAIN_LABEL]: 'finance' });
  });

  test('FloeDomain.of finds the enclosing domain through nested constructs', () => {
    const { domains: [sales] } = domains('sales');
    const inner = new Construct(new Construct(sales, 'A'), 'B');
    expect(FloeDomain.of(inner)).toBe(sales);
  });

  test('FloeDomain.of outside a domain names the construct and the fix', () => {
    const app = Testing.app();
    const stray = new Construct(app, 'Stray');
    expect(() => FloeDomain.of(stray)).toThrow(/^Stray: is not inside a FloeDomain; create it with a FloeDomain/);
  });

  test.each([
    ['Sales', /not a DNS-1123 label/],
    ['sales_eu', /not a DNS-1123 label/],
    ['-sales', /not a DNS-1123 label/],
    ['', /is empty/],
    ['a'.repeat(MAX_DOMAIN_NAME_LENGTH + 1), /59 characters long \(at most 58\)/],
  ])('rejects domain %j', (name, message) => {
    const app = Testing.app();
    expect(() => new FloeDomain(app, 'Bad', { domain: name })).toThrow(message);
    expect(() => new FloeDomain(app, 'Bad2', { domain: name })).toThrow(/^Bad2: domain .* use a short lower-case name/);
  });

  test('accepts the longest domain whose namespace fits 63 characters', () => {
    const app = Testing.app();
    const d = new FloeDomain(app, 'Long', { domain: 'a'.repeat(MAX_DOMAIN_NAME_LENGTH) });
    expect(d.namespace).toHaveLength(63);
  });
});
