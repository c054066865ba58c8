# CTest driver for `dynlib sweep` / `dynlib lyapunov` / `run --record-vars` (-DDYNLIB=<dynlib> -DDATA=<dir> -DWORK=<dir>):
# CSV columns and number format, failed points, shared options, statuses.
file(MAKE_DIRECTORY ${WORK})
set(CLI_TEST_CWD ${DATA})
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)

# 1. axis values as the shortest decimal that reads back (0.3, not 0.30000000000000004)
run_dynlib(o rc sweep builtin://map/logistic --param r=0.1:0.5:5 --N 10 --out ${WORK}/axis.csv)
expect_rc(${rc} 0 "axis" "${o}")
file(READ ${WORK}/axis.csv csv)
expect("${csv}" "^r,status,t,x\n0\\.1,DONE,[^\n]*\n0\\.2,DONE,[^\n]*\n0\\.3,DONE,[^\n]*\n0\\.4,DONE" "axis values")

# 2. a failed point: status ERROR, every column present (empty), message names the parameter values, exit 1
run_dynlib(o rc sweep blowup.toml --param a=-1:1:3 --T 5 --dt 0.01 --lyapunov 1 --out ${WORK}/fail.csv)
expect_rc(${rc} 1 "failed point" "${o}")
expect("${o}" "1 of 3 points failed \\(status ERROR, or a status other than DONE, in the CSV\\):\n  at a=1: Simulation failed"
  "failed message")
file(STRINGS ${WORK}/fail.csv rows)
list(GET rows 0 header)
list(GET rows 3 bad)
expect("${header}" "^a,status,t,x,lyapunov_mle\\.log_growth,lyapunov_mle\\.denom,lyapunov_mle\\.steps,lyapunov_mle\\.mle$" "header")
expect("${bad}" "^1,ERROR,,,,,,$" "failed row")

# 3. sweep and lyapunov take the common options (--preset, --mod, --max-steps, --quiet, --set)
run_dynlib(o rc sweep builtin://ode/izhikevich --preset regular_spiking --param I=5:10:2 --T 10 --dt 0.01
  --max-steps 100000 --quiet --out ${WORK}/preset.csv)
expect_rc(${rc} 0 "sweep --preset" "${o}")
run_dynlib(o rc sweep builtin://ode/izhikevich --preset nope --param I=5:10:2 --T 1 --out ${WORK}/x.csv)
expect_rc(${rc} 1 "sweep unknown preset" "${o}")
expect("${o}" "Unknown preset 'nope'. Available presets: \\[" "sweep unknown preset")
run_dynlib(o rc lyapunov decay.toml --mod start_mod.toml --T 1 --dt 0.01 --quiet --max-steps 1000)
expect_rc(${rc} 0 "lyapunov --mod" "${o}")
expect("${o}" "status: DONE\n" "lyapunov status")
run_dynlib(o rc lyapunov builtin://ode/lorenz --T 1 --dt 0.01 --jacobian_mode=x)
expect_rc(${rc} 2 "unknown option" "${o}")
run_dynlib(o rc lyapunov builtin://ode/lorenz --T 1 --dt 0.01 --renorm-every 0)
expect_rc(${rc} 2 "renorm" "${o}")
expect("${o}" "--renorm-every must be >= 1, got 0" "renorm")
run_dynlib(o rc lyapunov builtin://map/henon --k 3 --N 10)
expect_rc(${rc} 2 "k too large" "${o}")
expect("${o}" "--k must be at most the number of states \\(2\\), got 3" "k too large")
run_dynlib(o rc sweep builtin://map/logistic --param r=1:2:0 --N 10 --out ${WORK}/x.csv)
expect_rc(${rc} 2 "count 0" "${o}")
expect("${o}" "--param r count must be >= 1, got 0" "count 0")

# 4. run --record-vars with aux columns, and --aux
run_dynlib(o rc run blowup.toml --param a=-1 --T 0.1 --dt 0.05 --record-vars x,aux.double_x --out ${WORK}/aux.csv)
expect_rc(${rc} 0 "record-vars" "${o}")
file(STRINGS ${WORK}/aux.csv rows)
list(GET rows 0 header)
list(GET rows 1 first)
expect("${header}" "^t,step,x,double_x$" "record-vars header")
expect("${first}" "^0,0,1,2$" "record-vars row")
run_dynlib(o rc run blowup.toml --param a=-1 --T 0.1 --dt 0.05 --aux --out ${WORK}/aux2.csv)
file(STRINGS ${WORK}/aux2.csv rows)
list(GET rows 0 header)
expect("${header}" "^t,step,x,double_x$" "--aux header")
run_dynlib(o rc run blowup.toml --T 0.1 --record-vars x,aux.nope)
expect_rc(${rc} 1 "record-vars unknown" "${o}")
expect("${o}" "Unknown record_vars entry 'aux.nope'" "record-vars unknown")
# 5. a point that stops at --max-steps keeps its values and its own status, and the sweep exits 1
run_dynlib(o rc sweep decay.toml --param a=1:2:2 --T 1 --dt 0.1 --max-steps 5 --quiet --out ${WORK}/short.csv)
expect_rc(${rc} 1 "max-steps point" "${o}")
expect("${o}" "2 of 2 points failed [^\n]*\n  at a=1: stopped with status MAX_STEPS at t=0\\.5 after 5 steps\n"
  "max-steps message")
file(STRINGS ${WORK}/short.csv rows)
list(GET rows 1 first)
expect("${first}" "^1,MAX_STEPS,0\\.5,[0-9]" "max-steps row")
# 6. events without a log count in the sweep CSV and the run summary (interpreter and JIT); an implicit
#    stepper reports its work: bdf2 on a linear model with its exact Jacobian takes 2 Newton iterations a
#    step (1 f + 2 f, 2 Jacobians, 2 LU), 10 steps
set(modes "")
if(HAVE_JIT)
  set(modes --jit)
endif()
foreach(jit "" ${modes})
  run_dynlib(o rc sweep unlogged_event.toml --param rate=1:2:2 --quiet ${jit} --out ${WORK}/events.csv)
  expect_rc(${rc} 0 "event counts ${jit}" "${o}")
  file(READ ${WORK}/events.csv csv)
  expect("${csv}" "^rate,status,t,x,events\\.tick,events\\.reset\n1,DONE,10,0,10,10\n2,DONE,10,0,20,20\n$"
    "event counts ${jit}")
  run_dynlib(o rc run unlogged_event.toml --param rate=2 --quiet ${jit})
  expect_rc(${rc} 0 "run event counts ${jit}" "${o}")
  expect("${o}" "\nevents:  tick=20 reset=20\n" "run event counts ${jit}")
  if(o MATCHES "work:")
    message(FATAL_ERROR "rk4 counts no work, yet: ${o}")
  endif()
  run_dynlib(o rc run decay.toml --stepper bdf2 --param a=1 --T 1 --dt 0.1 --set jacobian_mode=external --quiet
    ${jit})
  expect_rc(${rc} 0 "work ${jit}" "${o}")
  expect("${o}" "\nwork:    rhs evals 30, jac evals 20, LU 20\n" "work ${jit}")
endforeach()

# 7. adaptive steppers sweep too: each point ends exactly where `dynlib run` with the same options ends
#    (interpreter and JIT); observers stay fixed-step only
foreach(jit "" ${modes})
  run_dynlib(o rc sweep builtin://ode/vanderpol --stepper tsit5 --param mu=1:2:2 --T 2 --quiet ${jit}
    --out ${WORK}/adaptive.csv)
  expect_rc(${rc} 0 "adaptive sweep ${jit}" "${o}")
  run_dynlib(o rc run builtin://ode/vanderpol --stepper tsit5 --param mu=2 --T 2 --no-record --quiet ${jit})
  expect_rc(${rc} 0 "adaptive run ${jit}" "${o}")
  string(REGEX MATCH "state:   x=([^ ]+) y=([^\n]+)\n" _ "${o}")
  string(REPLACE "." "\\." x "${CMAKE_MATCH_1}")
  string(REPLACE "." "\\." y "${CMAKE_MATCH_2}")
  file(READ ${WORK}/adaptive.csv csv)
  expect("${csv}" "^mu,status,t,x,y\n1,DONE,2,[^\n]*\n2,DONE,2,${x},${y}\n$" "adaptive sweep point ${jit}")
endforeach()
run_dynlib(o rc sweep builtin://ode/vanderpol --stepper tsit5 --param mu=1:2:2 --T 2 --lyapunov 1 --quiet
  --out ${WORK}/x.csv)
expect_rc(${rc} 1 "adaptive sweep with observers" "${o}")
expect("${o}" "Observers need a fixed-step stepper; stepper 'tsit5' is adaptive" "adaptive sweep with observers")

message(STATUS "test_cli_sweep: all checks passed")
