// One alphabet for host paths: what the inventory accepts as a host path, the host's ssh filter admits,
// and the other way round, character by character (issue 20: "@", ":", ",", "=" and non-ASCII letters
// passed the inventory and then failed every run at the filter).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { packagedFilterPath } from '../client/host-setup.js';
import { hostPathCharacters } from '../domain/host-path.js';
import { parseInventory } from '../inventory/load.js';

/** The filter's refusal patterns for rsync paths, `*[!…]*`, as one JavaScript class of refused characters. */
function filterRefuses(): RegExp {
  const script = readFileSync(packagedFilterPath, 'utf8');
  const classes = [...script.matchAll(/\*\[!([^\]]+)\]\*\) refuse "rsync path/g)].map((match) => match[1]!);
  assert.ok(classes.length >= 2, 'the filter checks both source and destination paths');
  assert.equal(new Set(classes).size, 1, 'the filter uses one alphabet for every rsync path');
  // sh's "\ " is a space; the filter runs with LC_ALL=C, so every byte outside the class is refused.
  return new RegExp(`[^${classes[0]!.replace('\\ ', ' ')}]`);
}

const candidates = [
  ...Array.from({ length: 0x80 }, (_, code) => String.fromCharCode(code)),
  ...'éßÅдж中ٴ\u00a0\u2028',
].filter((character) => character !== '/' && character !== ' ');

test('every character: a host path the inventory accepts is one the filter admits, and no other', () => {
  const refused = filterRefuses();
  const disagreements = candidates.filter((character) => {
    const path = `/srv/a${character}b`;
    return hostPathCharacters.test(path) === refused.test(path);
  });
  assert.deepEqual(
    disagreements.map((character) => `U+${character.codePointAt(0)!.toString(16).padStart(4, '0')}`),
    [],
  );
});

test('a host path outside the alphabet is refused by the inventory naming the field and the filter', () => {
  for (const path of ['/srv/user@host', '/srv/données', '/srv/a:b', '/srv/a,b', '/srv/a=b']) {
    assert.throws(
      () =>
        parseInventory(`servers: { b1: { dataset: data } }\nhosts: { vpn: { address: vpn, paths: ["${path}"] } }\n`),
      /hosts\.vpn\.paths\.0: expected an absolute path of ASCII letters, digits, "\/" and \. _ \+ - and single spaces inside names \(the host's ssh filter, tidemark-ssh-filter, admits no other\)/,
      path,
    );
  }
  const fine = parseInventory(
    'servers: { b1: { dataset: data } }\nhosts: { vpn: { address: vpn, paths: ["/srv/with space", "/a_b.c+d-e/F9"] } }\n',
  );
  assert.ok(fine.hosts.vpn);
});
