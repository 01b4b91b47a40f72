/** @type {import('prettier').Config} */
// OCA's prettier settings (oca-addons-repo-template, Odoo 18) with OCA's .editorconfig indents
const config = {
    plugins: [require.resolve("@prettier/plugin-xml")],
    bracketSpacing: false,
    printWidth: 120,
    proseWrap: "always",
    semi: true,
    tabWidth: 4,
    trailingComma: "es5",
    xmlWhitespaceSensitivity: "preserve",
    overrides: [{files: ["*.json", "*.yml", "*.yaml", "*.md", "*.rst"], options: {tabWidth: 2}}],
};

module.exports = config;
