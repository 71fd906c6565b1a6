import { describe, expect, it } from 'vitest';
import { GlobalnetError } from './errors';

describe('GlobalnetError', () => {
  it('has a stable code, frozen details, and isInstance works across copies through the Symbol.for marker', () => {
    const e = new GlobalnetError('CIDR_OVERLAP', 'cidr 242.0.0.0/16 overlaps', { cluster: 'east' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('GlobalnetError');
    expect(e.code).toBe('CIDR_OVERLAP');
    expect(Object.isFrozen(e.details)).toBe(true);
    expect(GlobalnetError.isInstance(e)).toBe(true);
    const foreign = Object.defineProperty(
      new Error('x'),
      Symbol.for('@isthmus/globalnet-ipam.GlobalnetError'),
      { value: true },
    );
    expect(GlobalnetError.isInstance(foreign)).toBe(true);
    expect(GlobalnetError.isInstance(new Error('x'))).toBe(false);
    expect(GlobalnetError.isInstance(null)).toBe(false);
  });
});
