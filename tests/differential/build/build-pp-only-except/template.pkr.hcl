source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}
build {
  sources = ["source.file.a", "source.file.b"]
  post-processor "shell-local" {
    only   = ["file.b"]
    inline = ["echo pp-only-b > pp-only-${source.name}.txt"]
  }
  post-processor "shell-local" {
    except = ["file.b"]
    inline = ["echo pp-except-b > pp-except-${source.name}.txt"]
  }
}
