// permissionOf maps a request to what RBAC checks the way the API server does (the rbac kube test relies on it).
import { describe, expect, it } from 'vitest';
import { permissionOf, permissionsUsed } from './rbac-audit';

const p = (method: string, url: string) => {
  const got = permissionOf(method, url);
  return got && `${got.group}|${got.resource}|${got.verb}${got.namespace ? ` in ${got.namespace}` : ''}`;
};

describe('permissionOf', () => {
  it('lists, watches, gets and writes of core and group resources, namespaced or not', () => {
    expect(p('GET', '/api/v1/pods?limit=500')).toBe('|pods|list');
    expect(p('GET', '/api/v1/pods?watch=true&resourceVersion=5')).toBe('|pods|watch');
    expect(p('GET', '/api/v1/namespaces/a/pods/x')).toBe('|pods|get in a');
    expect(p('PATCH', '/api/v1/namespaces/a/services/web')).toBe('|services|patch in a');
    expect(p('POST', '/api/v1/namespaces/default/events')).toBe('|events|create in default');
    expect(p('PUT', '/apis/isthmus.io/v1alpha1/ippools/p/status')).toBe('isthmus.io|ippools/status|update');
    expect(p('PUT', '/apis/isthmus.io/v1alpha1/namespaces/a/globalegressips/g/status')).toBe(
      'isthmus.io|globalegressips/status|update in a',
    );
    expect(p('DELETE', '/apis/isthmus.io/v1alpha1/nodeplans/n')).toBe('isthmus.io|nodeplans|delete');
    expect(p('DELETE', '/apis/isthmus.io/v1alpha1/nodeplans')).toBe('isthmus.io|nodeplans|deletecollection');
    expect(p('GET', '/apis/isthmus.io/v1alpha1/nodeplans?fieldSelector=metadata.name%3Dn&watch=true')).toBe(
      'isthmus.io|nodeplans|watch',
    );
  });

  it('namespaces themselves: the namespace object and its status subresource', () => {
    expect(p('GET', '/api/v1/namespaces')).toBe('|namespaces|list');
    expect(p('GET', '/api/v1/namespaces/a')).toBe('|namespaces|get in a');
    expect(p('PUT', '/api/v1/namespaces/a/status')).toBe('|namespaces/status|update in a');
  });

  it('discovery and other non-resource paths need no resource rule', () => {
    for (const path of ['/api', '/api/v1', '/apis', '/apis/discovery.k8s.io/v1', '/healthz', '/version'])
      expect(permissionOf('GET', path), path).toBeUndefined();
  });

  it('permissionsUsed is the sorted distinct set', () => {
    const call = (method: string, url: string) => ({ method, url, status: 200, injected: false });
    expect(
      permissionsUsed([
        call('GET', '/api/v1/nodes'),
        call('GET', '/api/v1/nodes?watch=true'),
        call('GET', '/api/v1/nodes'),
        call('GET', '/apis/discovery.k8s.io/v1'),
      ]),
    ).toEqual(['|nodes|list', '|nodes|watch']);
  });
});
