// Backstage's own lint rules, as a plugin in a Backstage repository is checked; the e2e runner and the scripts are
// command-line programs, whose console is their output.
module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  overrides: [{ files: ['e2e/**', 'scripts/**'], rules: { 'no-console': 'off' } }],
});
