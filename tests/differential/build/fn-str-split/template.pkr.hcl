source "file" "out" {
  target  = "out.txt"
  content = <<EOT
split(",", "") = [${jsonencode(split(",", ""))}]
split(",", "a") = [${jsonencode(split(",", "a"))}]
split("", "abc") = [${jsonencode(split("", "abc"))}]
split("", "é日😀") = [${jsonencode(split("", "é日😀"))}]
split(",", ",a,,b,") = [${jsonencode(split(",", ",a,,b,"))}]
split("ab", "abab") = [${jsonencode(split("ab", "abab"))}]
split(", ", "a, b,c") = [${jsonencode(split(", ", "a, b,c"))}]
split("x", "x") = [${jsonencode(split("x", "x"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
