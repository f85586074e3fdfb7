source "file" "out" {
  content = "${"10" > "9"} ${"10" < 9} ${"2.5" >= 2.5}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
