// nf-core style modules for a seal hashed on many nodes (spec/sharded.md).
// UNTESTED: CI has no Nextflow (it is not on PyPI or Debian); the Snakemake workflow
// beside this folder is the tested one. Kept in step with it by hand.

process SEQPROV_PLAN {
    tag "$meta.id"
    label 'process_single'

    input:
    tuple val(meta), val(run_dir)   // an absolute path every node mounts alike
    val parts

    output:
    tuple val(meta), path("${meta.id}.seqprov-plan"), emit: plan
    path "versions.yml"                             , emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    seqprov plan '${run_dir}' --parts ${parts} --out '${meta.id}.seqprov-plan' ${args}
    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        seqprov: \$(seqprov --version | sed 's/seqprov //')
    END_VERSIONS
    """
}

process SEQPROV_HASH_PART {
    tag "$meta.id part ${part}"
    label 'process_medium'

    input:
    tuple val(meta), path(plan), val(part)

    output:
    tuple val(meta), path("${meta.id}.part-${part}.seqprov-part"), emit: part

    script:
    """
    RAYON_NUM_THREADS=${task.cpus} seqprov hash-part '${plan}' --part ${part} \\
        --out '${meta.id}.part-${part}.seqprov-part' -q
    """
}

// Runs where the key is: give it a label your config pins to the sealing host.
process SEQPROV_SEAL_FROM_PARTS {
    tag "$meta.id"
    label 'process_single'
    label 'sealing_host'

    input:
    tuple val(meta), val(run_dir), path(plan), path(parts)
    path key

    output:
    tuple val(meta), path("${meta.id}.seqprov"), emit: bundle

    script:
    def args = task.ext.args ?: ''
    """
    seqprov seal '${run_dir}' --key '${key}' --out '${meta.id}.seqprov' \\
        --plan '${plan}' ${args} --from-parts ${parts}
    """
}
