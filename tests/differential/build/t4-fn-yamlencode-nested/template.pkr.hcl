source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode({ z = [[1, 2], [], [{ a = "x" }]], a = { "key with space" = "v", "1" = "one", "" = "empty" }, m = "line1\nline2", t = "trailing\n\n", lst = [{ b = [true, null] }] })}
EOT
}
build {
  sources = ["source.file.out"]
}
