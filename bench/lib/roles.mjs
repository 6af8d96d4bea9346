// Which part of a runtime a process is, from its command name: per-process CPU splits (`comm[pid]` keys)
// summed into node, python and other. (Node 24 names its main thread, hence its process, `MainThread`.)
export function byRole(split) {
  const roles = {};
  for (const [name, v] of Object.entries(split ?? {})) {
    const role =
      name.startsWith('node') || name.startsWith('MainThread') ? 'node' : name.startsWith('python') ? 'python' : 'other';
    roles[role] = (roles[role] ?? 0) + v;
  }
  return roles;
}
