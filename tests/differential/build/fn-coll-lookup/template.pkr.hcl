source "file" "out" {
  target  = "out.txt"
  content = <<EOT
lookup({ a = "x" }, "a", "d") = [${lookup({ a = "x" }, "a", "d")}]
lookup({ a = "x" }, "b", "d") = [${lookup({ a = "x" }, "b", "d")}]
lookup({}, "a", "") = [${lookup({}, "a", "")}]
lookup({ a = 1 }, "a", "fallback") = [${lookup({ a = 1 }, "a", "fallback")}]
lookup({ "with space" = "ok" }, "with space", "no") = [${lookup({ "with space" = "ok" }, "with space", "no")}]
EOT
}

build {
  sources = ["source.file.out"]
}
