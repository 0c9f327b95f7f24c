import assert from 'node:assert/strict';
import { parseLinkHeader } from '../../src/paging/follow-link';

describe('Link header', () => {
  it('reads rel=next and rel=first, with commas inside the URLs', () => {
    const header = '<https://a.mapillary.com/v3/images?bbox=1,2,3,4&per_page=2&_next_page_token=abc>; rel="next", '
      + '<https://a.mapillary.com/v3/images?bbox=1,2,3,4&per_page=2>; rel="first"';
    const links = parseLinkHeader(header);
    assert.equal(links.get('next'), 'https://a.mapillary.com/v3/images?bbox=1,2,3,4&per_page=2&_next_page_token=abc');
    assert.equal(links.get('first'), 'https://a.mapillary.com/v3/images?bbox=1,2,3,4&per_page=2');
  });

  it('accepts unquoted rel, several rels, other parameters and array headers', () => {
    const links = parseLinkHeader(['<https://x/a>; title="a;b"; rel=next', '<https://x/b>; rel="prev first"']);
    assert.equal(links.get('next'), 'https://x/a');
    assert.equal(links.get('prev'), 'https://x/b');
    assert.equal(links.get('first'), 'https://x/b');
  });

  it('gives nothing for an absent or garbled header', () => {
    assert.equal(parseLinkHeader(undefined).size, 0);
    assert.equal(parseLinkHeader('garbage; rel=next').size, 0);
  });
});
