import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: [...resolveIgnoresFromGitignore(), 'dist/**', 'coverage/**', '.tap/**']
  }),
  {
    // Lines up to 120 characters; long strings, template literals, URLs and regular expressions
    // may go beyond (breaking them would hurt more than it helps).
    rules: {
      '@stylistic/max-len': ['error', {
        code: 120,
        ignoreUrls: true,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true
      }]
    }
  }
]
