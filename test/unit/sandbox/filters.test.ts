import {
  type FilterSpec,
  FilterError,
  compileFilter,
  parseFilter,
  validateFilter,
} from '../../../sandbox/filters';

interface Item {
  name: string;
  type: string;
  count: number;
  enabled: boolean;
  lastUsed: string | null;
  groups: string[];
  owner: { id: string };
}

const SPEC: FilterSpec<Item> = {
  name: { type: 'string', operators: ['eq', 'ne', 'co', 'sw', 'in', 'gt', 'lt'] },
  type: { type: 'string', operators: ['eq', 'in'], caseSensitive: true },
  count: { type: 'number', operators: ['eq', 'ge', 'gt', 'le', 'lt'] },
  enabled: { type: 'boolean', operators: ['eq'] },
  lastUsed: { type: 'date', operators: ['le', 'ge', 'isnull', 'pr'] },
  groups: { type: 'string[]', operators: ['ca'] },
  'owner.id': { type: 'string', operators: ['eq'] },
  ownerName: { type: 'string', operators: ['eq'], get: (item) => `owner-${item.owner.id}` },
};

const ITEMS: Item[] = [
  {
    name: 'Alpha',
    type: 'ROLE',
    count: 1,
    enabled: true,
    lastUsed: '2024-01-10T00:00:00Z',
    groups: ['a', 'b'],
    owner: { id: 'o1' },
  },
  {
    name: 'beta',
    type: 'ENTITLEMENT',
    count: 5,
    enabled: false,
    lastUsed: null,
    groups: ['b'],
    owner: { id: 'o2' },
  },
  {
    name: 'Gamma "quoted"',
    type: 'ROLE',
    count: 10,
    enabled: true,
    lastUsed: '2024-03-01T00:00:00.000Z',
    groups: [],
    owner: { id: 'o1' },
  },
];

const names = (filters: string | undefined) => ITEMS.filter(compileFilter(filters, SPEC)).map((i) => i.name);

describe('filters: evaluation', () => {
  it.each([
    [undefined, ['Alpha', 'beta', 'Gamma "quoted"']],
    ['   ', ['Alpha', 'beta', 'Gamma "quoted"']],
    ['lastUsed le 2024-02-01T00:00:00Z', ['Alpha']],
    ['lastUsed le 2024-03-01T00:00:00.000Z', ['Alpha', 'Gamma "quoted"']],
    ['lastUsed ge "2024-01-10T00:00:00.000Z"', ['Alpha', 'Gamma "quoted"']],
    ['lastUsed le 2024-02-01', ['Alpha']],
    ['lastUsed isnull', ['beta']],
    ['pr lastUsed', ['Alpha', 'Gamma "quoted"']],
    ['name eq "alpha"', ['Alpha']],
    ['name eq alpha', ['Alpha']],
    ['type eq "role"', []],
    ['type eq "ROLE"', ['Alpha', 'Gamma "quoted"']],
    ['name ne "beta"', ['Alpha', 'Gamma "quoted"']],
    ['name co "AMM"', ['Gamma "quoted"']],
    ['name sw "b"', ['beta']],
    ['name gt "b"', ['beta', 'Gamma "quoted"']],
    ['name gt "beta"', ['Gamma "quoted"']],
    ['name eq "Gamma \\"quoted\\""', ['Gamma "quoted"']],
    ['type in ("ENTITLEMENT", "ACCESS_PROFILE")', ['beta']],
    ['count ge 5', ['beta', 'Gamma "quoted"']],
    ['count lt 5', ['Alpha']],
    ['enabled eq false', ['beta']],
    ['groups ca ("a","b")', ['Alpha']],
    ['owner.id eq "o1"', ['Alpha', 'Gamma "quoted"']],
    ['ownerName eq "owner-o2"', ['beta']],
    ['lastUsed isnull or count eq 10', ['beta', 'Gamma "quoted"']],
    ['type eq "ROLE" and count gt 1', ['Gamma "quoted"']],
    ['not lastUsed isnull', ['Alpha', 'Gamma "quoted"']],
    ['not (count eq 1 or count eq 5) and type eq "ROLE"', ['Gamma "quoted"']],
    // not > and > or: (not count eq 1) or (count eq 1 and type eq "ROLE")
    ['not count eq 1 or count eq 1 and type eq "ROLE"', ['Alpha', 'beta', 'Gamma "quoted"']],
    ['count eq 5 or count eq 10 and type eq "ROLE"', ['beta', 'Gamma "quoted"']],
    ['(count eq 5 or count eq 10) and type eq "ROLE"', ['Gamma "quoted"']],
  ])('%s', (filters, expected) => {
    expect(names(filters)).toEqual(expected);
  });
});

describe('filters: parsing', () => {
  it('builds the tree with not > and > or', () => {
    expect(parseFilter('not a eq 1 or b eq 2 and c eq 3')).toEqual({
      kind: 'or',
      left: {
        kind: 'not',
        operand: { kind: 'compare', field: 'a', op: 'eq', value: { raw: '1', quoted: false } },
      },
      right: {
        kind: 'and',
        left: { kind: 'compare', field: 'b', op: 'eq', value: { raw: '2', quoted: false } },
        right: { kind: 'compare', field: 'c', op: 'eq', value: { raw: '3', quoted: false } },
      },
    });
  });

  it.each([
    'lastUsed le',
    'lastUsed',
    'lastUsed LE 2024-01-01T00:00:00Z',
    'lastUsed isnull and',
    'and lastUsed isnull',
    '(lastUsed isnull',
    'lastUsed isnull)',
    'lastUsed le 2024-01-01 2024-01-02',
    'name eq "unterminated',
    'name eq "bad \\escape"',
    'type in "ROLE"',
    'type in ()',
    'type in ("ROLE",)',
    'pr',
    'name eq and',
    '"name" eq "x"',
  ])('rejects %p as a syntax error', (filters) => {
    expect(() => parseFilter(filters)).toThrow(FilterError);
    try {
      parseFilter(filters);
    } catch (error) {
      expect((error as FilterError).reason).toBe('syntax');
    }
  });

  it.each([
    ['unknown field', 'created le 2024-01-01T00:00:00Z', 'unsupported'],
    ['operator not allowed on the field', 'lastUsed gt 2024-01-01T00:00:00Z', 'unsupported'],
    ['prefix operator not allowed', 'pr name', 'unsupported'],
    ['field from the prototype', 'constructor eq 1', 'unsupported'],
    ['a field only inside not', 'not created isnull', 'unsupported'],
    ['bad date', 'lastUsed le yesterday', 'value'],
    ['impossible date', 'lastUsed le 2024-13-45T00:00:00Z', 'value'],
    ['bad number', 'count eq many', 'value'],
    ['quoted number', 'count eq "5"', 'value'],
    ['bad boolean', 'enabled eq yes', 'value'],
  ])('rejects %s', (_case, filters, reason) => {
    expect(() => compileFilter(filters, SPEC)).toThrow(
      expect.objectContaining({ name: 'FilterError', reason }),
    );
  });

  it('validates a parsed expression separately from parsing it', () => {
    const expr = parseFilter('created le 2024-01-01T00:00:00Z');
    expect(() => validateFilter(expr, SPEC)).toThrow(/created/);
  });
});
