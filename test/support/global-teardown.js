module.exports = async function globalTeardown() {
  await Promise.all((globalThis.__EMULATORS__ ?? []).map((e) => e.stop()));
};
