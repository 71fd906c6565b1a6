import { crdManifests, createReconciler, GLOBAL_IP_ANNOTATION, renderCrdYaml } from '@isthmus/k8s-adapter';

// The CRDs, defined once in TypeScript: `kubectl apply -f -` this text (or use crdManifests()).
console.log(crdManifests().map((c) => c.metadata.name));
console.log(renderCrdYaml().split('\n').length, 'lines of CRD YAML');

// The pure core the controller runs: objects in, desired writes out (no cluster needed).
const core = createReconciler({ clusterID: 'east', globalCidr: '242.0.0.0/16' });
const writes = core.recover(
  {
    services: [
      {
        metadata: { name: 'web', namespace: 'shop', uid: 'u1', creationTimestamp: new Date('2026-01-01') },
        spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 80 }] },
      },
    ],
    serviceExports: [{ metadata: { name: 'web', namespace: 'shop' } }],
  },
  new Date().toISOString(),
);
// The controller sends this merge patch to /api/v1/namespaces/shop/services/web.
console.log(
  writes.annotations.map((w) => `${w.ref.namespace}/${w.ref.name} ${w.annotations[GLOBAL_IP_ANNOTATION]}`),
);
// [ 'shop/web 242.0.0.1' ]
