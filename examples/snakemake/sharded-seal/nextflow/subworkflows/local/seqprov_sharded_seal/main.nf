// nf-core style subworkflow: plan -> hash-part x N -> seal (spec/sharded.md).
// UNTESTED in CI (no Nextflow there); see ../../../../README.md.
//
//   include { SEQPROV_SHARDED_SEAL } from './subworkflows/local/seqprov_sharded_seal/main'
//   SEQPROV_SHARDED_SEAL(ch_runs, params.parts, file(params.seal_key))
//
// ch_runs: [ meta, run_dir ] with run_dir an absolute path on a shared file system
// (staging a multi-terabyte run folder into work directories would defeat the purpose:
// the processes read it in place).

include { SEQPROV_PLAN; SEQPROV_HASH_PART; SEQPROV_SEAL_FROM_PARTS } from '../../../modules/local/seqprov/main'

workflow SEQPROV_SHARDED_SEAL {
    take:
    ch_runs   // channel: [ val(meta), val(run_dir) ]
    parts     // val: number of parts
    key       // path: the sealing key

    main:
    SEQPROV_PLAN(ch_runs, parts)
    ch_jobs = SEQPROV_PLAN.out.plan
        .combine(Channel.of(0..<(parts as int)))   // [ meta, plan, part ]
    SEQPROV_HASH_PART(ch_jobs)
    ch_parts = SEQPROV_HASH_PART.out.part.groupTuple(size: parts as int)
    ch_seal = ch_runs
        .join(SEQPROV_PLAN.out.plan)
        .join(ch_parts)                              // [ meta, run_dir, plan, [parts] ]
    SEQPROV_SEAL_FROM_PARTS(ch_seal, key)

    emit:
    bundle   = SEQPROV_SEAL_FROM_PARTS.out.bundle
    versions = SEQPROV_PLAN.out.versions
}
