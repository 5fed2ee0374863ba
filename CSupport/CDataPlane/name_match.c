/*
 * name_match.c — names matched as CoreDNS matches them: in text form,
 * lower case, ending with a dot; exactly, by prefix, suffix, substring or
 * an unanchored pattern. A pattern is a POSIX extended regular expression
 * (regcomp), run only on names that hold the literal every match of it
 * must hold, found once when the rule is made: most names are rejected
 * by one memmem.
 */
#include "stages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Past a bracket expression that opens at `i` ([...], with [:class:]
 * and a leading ] or ^]). */
static size_t past_bracket(const char *s, size_t n, size_t i) {
    size_t j = i + 1;
    if (j < n && s[j] == '^') j++;
    if (j < n && s[j] == ']') j++;
    while (j < n && s[j] != ']') {
        if (s[j] == '[' && j + 1 < n && (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
            char kind = s[j + 1];
            j += 2;
            while (j + 1 < n && !(s[j] == kind && s[j + 1] == ']')) j++;
            j += 2;
            continue;
        }
        j++;
    }
    return j < n ? j + 1 : n;
}

/* Past a group that opens at `i`. */
static size_t past_group(const char *s, size_t n, size_t i) {
    size_t depth = 0;
    for (size_t j = i; j < n;) {
        if (s[j] == '\\') {
            j += 2;
        } else if (s[j] == '[') {
            j = past_bracket(s, n, j);
        } else {
            if (s[j] == '(') depth++;
            if (s[j] == ')' && --depth == 0) return j + 1;
            j++;
        }
    }
    return n;
}

/*
 * The longest run of literal characters outside groups and brackets, in
 * a pattern with no alternation at its top level: every match holds it.
 * A character a quantifier makes optional ends the run without it; `+`
 * keeps it and ends the run. Anything else that is not a literal ends it.
 */
static void find_required(dp_matcher *m) {
    const char *s = m->text;
    size_t n = m->len;
    char run[DP_NAME_TEXT], best[DP_NAME_TEXT];
    size_t run_len = 0, best_len = 0;
    for (size_t i = 0; i <= n;) {
        char literal = 0;
        size_t next = i + 1;
        char c = i < n ? s[i] : '\0';
        if (c == '|') return;
        if (c == '\\' && i + 1 < n) {
            char e = s[i + 1];
            bool word = (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9');
            literal = word ? 0 : e;
            next = i + 2;
        } else if (c == '[') {
            next = past_bracket(s, n, i);
        } else if (c == '(') {
            next = past_group(s, n, i);
        } else if (c == '{') {
            while (next < n && s[next - 1] != '}') next++;
        } else if (c != '\0' && strchr(".^$*+?)", c) == NULL) {
            literal = c;
        }
        char quantifier = next < n ? s[next] : '\0';
        if (literal != 0 && quantifier != '*' && quantifier != '?' && quantifier != '{') {
            if (run_len + 1 < sizeof(run)) run[run_len++] = literal;
            if (quantifier != '+') {
                i = next;
                continue;
            }
        }
        if (run_len > best_len) {
            memcpy(best, run, run_len);
            best_len = run_len;
        }
        run_len = 0;
        i = next;
    }
    if (best_len == 0) return;
    m->required = malloc(best_len);
    if (m->required == NULL) return;
    memcpy(m->required, best, best_len);
    m->required_len = best_len;
}

/* The longest run of `text` without a dot (nor a backslash, which an
 * escape in the text form brings): every wire name whose text holds
 * `text` holds it. */
static void find_piece(dp_matcher *m, const char *text, size_t len) {
    size_t best = 0, best_at = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '.' && text[j] != '\\') j++;
        if (j - i > best) {
            best = j - i;
            best_at = i;
        }
        i = j + 1;
    }
    if (best == 0) return;
    m->piece = malloc(best);
    if (m->piece == NULL) return;
    memcpy(m->piece, text + best_at, best);
    m->piece_len = best;
}

int dp_matcher_init(dp_matcher *m, dp_match_kind kind, const char *text, char *err, size_t errlen) {
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->len = strlen(text);
    m->text = strdup(text);
    if (m->text == NULL) return dp_fail(err, errlen, "out of memory");
    if (kind == DP_MATCH_EXACT) {
        m->wire_len = (uint8_t)dp_name_from_text(text, m->len, m->wire);
        if (m->wire_len == 0) return dp_fail(err, errlen, "'%s' is not a name", text);
    }
    if (kind == DP_MATCH_REGEX) {
        int rc = regcomp(&m->regex, text, REG_EXTENDED);
        if (rc != 0) {
            char reason[128];
            regerror(rc, &m->regex, reason, sizeof(reason));
            return dp_fail(err, errlen, "'%s' is not a regular expression: %s", text, reason);
        }
        m->compiled = true;
        find_required(m);
        if (m->required != NULL) find_piece(m, m->required, m->required_len);
    } else if (kind != DP_MATCH_EXACT) {
        find_piece(m, m->text, m->len);
    }
    return 0;
}

void dp_matcher_free(dp_matcher *m) {
    if (m->compiled) regfree(&m->regex);
    free(m->text);
    free(m->required);
    free(m->piece);
    memset(m, 0, sizeof(*m));
}

bool dp_matcher_matches(const dp_matcher *m, const char *text, size_t len, regmatch_t *groups) {
    switch (m->kind) {
    case DP_MATCH_EXACT:
        return len == m->len && memcmp(text, m->text, len) == 0;
    case DP_MATCH_PREFIX:
        return len >= m->len && memcmp(text, m->text, m->len) == 0;
    case DP_MATCH_SUFFIX:
        return len >= m->len && memcmp(text + len - m->len, m->text, m->len) == 0;
    case DP_MATCH_SUBSTRING:
        return memmem(text, len, m->text, m->len) != NULL;
    case DP_MATCH_REGEX:
        if (m->required != NULL && memmem(text, len, m->required, m->required_len) == NULL)
            return false;
        return regexec(&m->regex, text, DP_MAX_GROUPS, groups, 0) == 0;
    }
    return false;
}

bool dp_matcher_matches_name(const dp_matcher *m, dp_name_text *name, regmatch_t *groups) {
    if (m->kind == DP_MATCH_EXACT)
        return name->wire_len == m->wire_len && memcmp(name->wire, m->wire, m->wire_len) == 0;
    if (m->piece != NULL && memmem(name->wire, name->wire_len, m->piece, m->piece_len) == NULL)
        return false;
    const char *text = dp_name_text_of(name);
    return dp_matcher_matches(m, text, name->len, groups);
}

const char *dp_name_text_of(dp_name_text *n) {
    if (!n->made) {
        n->len = dp_name_to_text(n->wire, n->wire_len, n->text);
        n->made = true;
    }
    return n->text;
}

size_t dp_name_to_text(const uint8_t *name, size_t len, char *out) {
    size_t at = 0;
    for (size_t pos = 0; pos < len && name[pos] != 0; pos += 1 + name[pos]) {
        for (size_t i = 1; i <= name[pos]; i++) {
            uint8_t c = name[pos + i];
            if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
                c == '$') {
                out[at++] = '\\';
                out[at++] = (char)c;
            } else if (c <= 0x20 || c >= 0x7F) {
                at += (size_t)snprintf(out + at, 5, "\\%03u", c);
            } else {
                out[at++] = (char)c;
            }
        }
        out[at++] = '.';
    }
    if (at == 0) out[at++] = '.';
    out[at] = '\0';
    return at;
}

size_t dp_name_from_text(const char *text, size_t len, uint8_t *out) {
    if (len == 1 && text[0] == '.') {
        out[0] = 0;
        return 1;
    }
    size_t at = 0, label = 0;
    out[0] = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)text[i];
        if (c == '.') {
            if (out[label] == 0) return 0; /* an empty label */
            label = ++at;
            if (at >= DP_MAX_NAME) return 0;
            out[label] = 0;
            continue;
        }
        if (c == '\\' && i + 1 < len) {
            c = (uint8_t)text[++i];
            if (c >= '0' && c <= '9' && i + 2 < len) {
                unsigned v = (unsigned)(c - '0') * 100 + (unsigned)(text[i + 1] - '0') * 10 +
                             (unsigned)(text[i + 2] - '0');
                if (v > 255) return 0;
                c = (uint8_t)v;
                i += 2;
            }
        }
        if (out[label] == 63 || at + 2 >= DP_MAX_NAME) return 0;
        out[label]++;
        out[++at] = dp_lower(c);
    }
    /* A name without the final dot ends here. */
    if (out[label] != 0) {
        label = ++at;
        if (at >= DP_MAX_NAME) return 0;
        out[label] = 0;
    }
    return at + 1;
}

size_t dp_expand_groups(const char *to, const char *subject, const regmatch_t *groups, char *out) {
    size_t at = 0;
    for (const char *c = to; *c != '\0'; c++) {
        if (c[0] == '{' && c[1] >= '0' && c[1] <= '9' && c[2] == '}' && groups != NULL) {
            const regmatch_t *g = &groups[c[1] - '0'];
            if (g->rm_so >= 0) {
                size_t n = (size_t)(g->rm_eo - g->rm_so);
                if (at + n >= DP_NAME_TEXT) return 0;
                memcpy(out + at, subject + g->rm_so, n);
                at += n;
            }
            c += 2;
            continue;
        }
        if (at + 1 >= DP_NAME_TEXT) return 0;
        out[at++] = *c;
    }
    out[at] = '\0';
    return at;
}
