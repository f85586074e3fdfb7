source "file" "out" {
  target  = "out.txt"
  content = <<EOT
trim("??a?b??", "?") = [${trim("??a?b??", "?")}]
trim("abcba", "ab") = [${trim("abcba", "ab")}]
trim("xx", "x") = [${trim("xx", "x")}]
trim("a", "") = [${trim("a", "")}]
trim("ééaé", "é") = [${trim("ééaé", "é")}]
trim("  a  ", " ") = [${trim("  a  ", " ")}]
trimprefix("aaab", "a") = [${trimprefix("aaab", "a")}]
trimprefix("ab", "") = [${trimprefix("ab", "")}]
trimprefix("ab", "abc") = [${trimprefix("ab", "abc")}]
trimsuffix("file.tar.gz", ".gz") = [${trimsuffix("file.tar.gz", ".gz")}]
trimsuffix("a", "a") = [${trimsuffix("a", "a")}]
trimsuffix("abab", "ab") = [${trimsuffix("abab", "ab")}]
EOT
}

build {
  sources = ["source.file.out"]
}
