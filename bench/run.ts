// `npm run bench`: runs every benchmark (or those named on the command line) and prints their numbers.
const all = ['decision', 'validation', 'audit', 'exchange', 'reports', 'cds', 'http', 'profile'] as const;
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : [...all];
console.log(`Ketenpoort benchmarks — node ${process.version}, ${new Date().toISOString()}`);
for (const name of wanted) {
  if (!(all as readonly string[]).includes(name)) {
    console.error(`unknown benchmark "${name}"; choose from ${all.join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n# ${name}`);
  const mod = (await import(`./${name}.bench.js`)) as { run: () => Promise<void> };
  await mod.run();
}
