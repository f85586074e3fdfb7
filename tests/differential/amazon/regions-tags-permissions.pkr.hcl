// A source_ami_filter, copies to two more regions, tags with template data, run, volume and
// snapshot tags, and launch and snapshot permissions.
variable "endpoint" { type = string }

source "amazon-ebs" "diff" {
  access_key             = "kiln-moto-key"
  secret_key             = "kiln-moto-secret"
  custom_endpoint_ec2    = var.endpoint
  skip_region_validation = true
  communicator           = "none"
  region = "us-east-1"
  source_ami_filter {
    filters = {
      name             = "amzn2-ami-hvm-2.0.*-x86_64-gp2"
      root-device-type = "ebs"
    }
    owners      = ["137112412989"]
    most_recent = true
  }
  instance_type   = "t3.micro"
  ami_name        = "kiln-differential"
  ami_description = "made from {{ .SourceAMI }}"
  ami_regions     = ["us-west-2", "eu-west-1"]
  ami_users       = ["123456789012"]
  ami_groups      = ["all"]
  snapshot_users  = ["210987654321"]
  tags = {
    Name   = "diff"
    Base   = "{{ .SourceAMIName }}"
    Region = "{{ .BuildRegion }}"
  }
  snapshot_tags   = { Kind = "snap", Owner = "{{ .SourceAMIOwner }}" }
  run_tags        = { Run = "yes" }
  run_volume_tags = { Vol = "run" }
}

build { sources = ["source.amazon-ebs.diff"] }
