#!/usr/bin/env bash
# Start, or resume after a stop / reboot, the default voice's Tacotron 2 training in the background.
#
#   bash recipes/default_voice/train.sh            # Tacotron 2 (runs/default_voice)
#   MODEL=waveglow bash recipes/default_voice/train.sh   # WaveGlow (runs/default_voice_waveglow)
#   MODEL=waveglow_compact bash recipes/default_voice/train.sh   # the compact WaveGlow (runs/default_voice_waveglow_compact)
#   MODEL=waveglow_lp bash recipes/default_voice/train.sh        # ... with linear prediction (runs/default_voice_waveglow_lp)
#   MODEL=waveglow_pulse WARM_START=runs/default_voice_waveglow_lp_gta bash recipes/default_voice/train.sh
#                                                        # ... and pulse excitation (runs/default_voice_waveglow_pulse;
#                                                        #     extract_excitation.py first)
#   CONFIG=recipes/default_voice/tacotron2_continue.yaml RUN_DIR=runs/default_voice_continue \
#     WARM_START=checkpoints/default/tacotron2.pt bash recipes/default_voice/train.sh
#                                                        # a new run that starts from the shipped weights
#                                                        # (WARM_START applies when the run has no checkpoint yet)
#   MODEL=waveglow_compact CONFIG=recipes/default_voice/waveglow_compact_gta.yaml RUN_DIR=runs/default_voice_waveglow_lp_gta \
#     WARM_START=runs/default_voice_waveglow_lp bash recipes/default_voice/train.sh
#                                                        # stage 2: fine-tune on the student's GTA mels (dump_gta.py first)
#   NPROC=2 bash recipes/default_voice/train.sh          # two 1-thread data-parallel processes (torchrun, gloo):
#                                                          on an otherwise idle 2-core machine 1.45x the samples/s
#                                                          of one process (11 vs 7.6 clips/s; one process with two
#                                                          threads was slower than with one: 1.81 vs 1.66 s/step)
#
# The log goes to <run dir>/train.log (appended across restarts), the process id to <run dir>/train.pid.
# Stop with: kill "$(cat runs/default_voice/train.pid)"   (SIGTERM: the step in flight finishes, a checkpoint
# is saved at that step, and the next start resumes from it; a second kill stops at once)
set -euo pipefail
cd "$(dirname "$0")/../.."

MODEL=${MODEL:-tacotron2}
case "$MODEL" in
    tacotron2) MODULE=tts.train; DEFAULT_CONFIG=recipes/default_voice/tacotron2_small.yaml; DEFAULT_RUN=runs/default_voice ;;
    waveglow) MODULE=vocoder.train; DEFAULT_CONFIG=recipes/default_voice/waveglow_small.yaml; DEFAULT_RUN=runs/default_voice_waveglow ;;
    waveglow_compact) MODULE=vocoder.train; DEFAULT_CONFIG=recipes/default_voice/waveglow_compact.yaml
                      DEFAULT_RUN=runs/default_voice_waveglow_compact ;;
    waveglow_lp) MODULE=vocoder.train; DEFAULT_CONFIG=recipes/default_voice/waveglow_compact_lp.yaml
                 DEFAULT_RUN=runs/default_voice_waveglow_lp ;;
    waveglow_pulse) MODULE=vocoder.train; DEFAULT_CONFIG=recipes/default_voice/waveglow_compact_pulse.yaml
                    DEFAULT_RUN=runs/default_voice_waveglow_pulse ;;
    *) echo "MODEL must be tacotron2, waveglow, waveglow_compact, waveglow_lp or waveglow_pulse, got '$MODEL'" >&2; exit 2 ;;
esac
CONFIG=${CONFIG:-$DEFAULT_CONFIG}
RUN_DIR=${RUN_DIR:-$DEFAULT_RUN}
mkdir -p "$RUN_DIR"

# The corpus must exist before training starts (the trainers check it too, after their imports).
CORPUS=$(python3 -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['data']['corpus'])" "$CONFIG")
if [[ ! -f "$CORPUS/metadata.csv" ]]; then
    echo "error: corpus not found: $CORPUS (build it first: python3 recipes/default_voice/build_corpus.py --jobs 2)" >&2
    exit 2
fi

EXTRA=()
if [[ -n "${WARM_START:-}" ]]; then  # the trainer uses it only when the run has no checkpoint to resume
    EXTRA=(--warm-start "$WARM_START")
fi

if [[ -f "$RUN_DIR/train.pid" ]] && kill -0 "$(cat "$RUN_DIR/train.pid")" 2>/dev/null; then
    echo "already training: pid $(cat "$RUN_DIR/train.pid") (log: $RUN_DIR/train.log)" >&2
    exit 1
fi

# Threads that wait at an OpenMP barrier must sleep, not spin: on a shared machine spinning threads
# steal the cores the working ones need.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

# The trainer fills the mel cache first (once; later starts find it) and then trains.
NPROC=${NPROC:-1}
if [[ "$NPROC" -gt 1 ]]; then
    export OMP_NUM_THREADS=1
    nohup torchrun --standalone --nproc_per_node "$NPROC" -m "$MODULE" --config "$CONFIG" --run-dir "$RUN_DIR" \
        --resume auto "${EXTRA[@]}" >> "$RUN_DIR/train.log" 2>&1 &
else
    nohup nice -n 5 python3 -m "$MODULE" --config "$CONFIG" --run-dir "$RUN_DIR" --resume auto "${EXTRA[@]}" \
        >> "$RUN_DIR/train.log" 2>&1 &
fi
echo $! > "$RUN_DIR/train.pid"
echo "started $MODEL training: pid $! , log $RUN_DIR/train.log, checkpoints $RUN_DIR/checkpoints"
