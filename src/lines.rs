//! Line numbers for byte offsets in a rule file: errors name the line a rule starts on. The
//! newlines are indexed once per file, so numbering every rule of a large file stays linear.

/// The offsets of every newline in one text.
pub struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|&(_, byte)| byte == b'\n')
                .map(|(at, _)| at)
                .collect(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_their_lines() {
        let index = LineIndex::new("a\nbc\n\nd");
        let lines: Vec<usize> = (0..7).map(|at| index.line_of(at)).collect();
        assert_eq!(lines, vec![1, 1, 2, 2, 2, 3, 4]);
        assert_eq!(index.line_of(100), 4);
    }
}
