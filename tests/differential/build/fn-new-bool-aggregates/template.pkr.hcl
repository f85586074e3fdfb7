source "file" "out" {
  target  = "out.txt"
  content = <<EOT
alltrue([]) = [${alltrue([])}]
anytrue([]) = [${anytrue([])}]
alltrue([true, "true"]) = [${alltrue([true, "true"])}]
alltrue([true, false]) = [${alltrue([true, false])}]
anytrue([false, "true"]) = [${anytrue([false, "true"])}]
anytrue([false, false]) = [${anytrue([false, false])}]
EOT
}

build {
  sources = ["source.file.out"]
}
