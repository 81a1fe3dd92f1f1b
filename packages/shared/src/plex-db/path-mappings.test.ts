import { describe, expect, it } from 'vitest';
import { parsePathMapping, validatePathMappings } from './path-mappings.js';

describe('parsePathMapping', () => {
  it('splits at the first =', () => {
    expect(parsePathMapping('/media/a=b=/mnt/x')).toEqual({ from: '/media/a', to: 'b=/mnt/x' });
    expect(parsePathMapping('/old=/new=1')).toEqual({ from: '/old', to: '/new=1' });
  });

  it('names the flag when there is no =', () => {
    expect(() => parsePathMapping('/media/tv')).toThrow(/--map "\/media\/tv": expected FROM=TO/);
  });
});

describe('validatePathMappings', () => {
  it('normalises trailing slashes and orders longest first', () => {
    expect(
      validatePathMappings([
        { from: '/Media/', to: '/mnt/media/' },
        { from: '/Media/TV//', to: '/srv/tv' },
      ]),
    ).toEqual([
      { from: '/Media/TV', to: '/srv/tv' },
      { from: '/Media', to: '/mnt/media' },
    ]);
  });

  it('accepts spaces, quotes and unicode as they are', () => {
    expect(validatePathMappings([{ from: `/Média/Don't "x"`, to: '/mnt/東京' }])).toEqual([{ from: `/Média/Don't "x"`, to: '/mnt/東京' }]);
  });

  it.each([
    [[{ from: 'Media', to: '/x' }], /FROM: "Media" is not an absolute path/],
    [[{ from: '/x', to: 'relative/y' }], /TO: "relative\/y" is not an absolute path/],
    [[{ from: '', to: '/x' }], /FROM: is empty/],
    [[{ from: '/', to: '/x' }], /filesystem root/],
    [[{ from: '/a/../b', to: '/x' }], /\.\. segment/],
    [[{ from: '/a//b', to: '/x' }], /empty segment/],
    [[{ from: 'file:///a', to: '/x' }], /not a file:\/\/ URL/],
    [[{ from: '/a', to: '/a/' }], /FROM and TO are the same path/],
    [
      [
        { from: '/a', to: '/b' },
        { from: '/a/', to: '/c' },
      ],
      /\[2\].*already mapped by --map\[1\]/,
    ],
    [
      [
        { from: '/Media/TV', to: '/Media/TVShows' },
        { from: '/Media/TVShows', to: '/x' },
      ],
      /TO \/Media\/TVShows is FROM of --map\[2\].*chain/,
    ],
    [
      [
        { from: '/Media', to: '/mnt' },
        { from: '/Media/TV', to: '/Media/Series' },
      ],
      /TO \/Media\/Series is inside FROM of --map\[1\]/,
    ],
    [
      [
        { from: '/a', to: '/b' },
        { from: '/b/c', to: '/d' },
      ],
      /TO \/b contains FROM of --map\[2\]/,
    ],
    [[{ from: '/Media/TV', to: '/Media/TV/new' }], /TO \/Media\/TV\/new is inside its own FROM/],
    [[], /at least one mapping/],
  ])('rejects %j', (mappings, message) => {
    expect(() => validatePathMappings(mappings)).toThrow(message);
    try {
      validatePathMappings(mappings);
    } catch (error) {
      expect(error).toMatchObject({ code: 'MAPPING_INVALID' });
    }
  });

  it('keeps sibling prefixes apart: /Media/TV and /Media/TVShows do not overlap', () => {
    expect(
      validatePathMappings([
        { from: '/Media/TV', to: '/mnt/tv' },
        { from: '/Media/TVShows', to: '/mnt/shows' },
      ]),
    ).toHaveLength(2);
  });
});
