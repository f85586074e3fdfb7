source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${jsonencode(split("::", "a::b::::c"))}
${jsonencode(split("ab", "xabyabz"))}
${jsonencode(split(",", ""))}
${jsonencode(split("", "abc"))}
[${trim("xyhixyyx", "xy")}] [${trim("  a  ", " ")}] [${trim("--a-b--", "-")}] [${trim("ééaé", "é")}]
[${trimprefix("aaab", "a")}] [${trimsuffix("abcc", "c")}]
[${indent(2, "a\nb\n")}] [${indent(4, "\n\nx")}]
[${jsonencode(chomp("a\r\n"))}] [${jsonencode(chomp("a\n\n\r\n"))}] [${jsonencode(chomp("a\r"))}] [${jsonencode(chomp("a\n\r"))}]
[${trimspace("\t\n a \r\n")}]
EOT
}
build {
  sources = ["source.file.out"]
}
