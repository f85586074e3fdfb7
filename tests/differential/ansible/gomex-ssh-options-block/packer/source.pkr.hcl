# Reduced: the original amazon-ebs source is replaced by a null source.
source "null" "ubuntu-us-east-1" {
  communicator = "none"
}
